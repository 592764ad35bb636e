// Package synthea_test loads the Synthea bundles (30 files, 6,629 resources) of ../shared/fixtures
// through the FHIR API, on SQLite and on PostgreSQL, and checks searches
// against answers computed from the raw bundle files, not from the server.
package synthea_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"io"
	"log/slog"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"slices"
	"sort"
	"strings"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/app"
	"github.com/carnet-sante/carnet/internal/config"
	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
	"github.com/carnet-sante/carnet/internal/testenv"
)

const fixtures = "../../../shared/fixtures/synthea"

// raw is one resource of the bundle files, with the id the server gave it.
type raw struct {
	typ, id string // server id
	res     map[string]any
}

// world is what the bundle files say, indexed for the expected answers.
type world struct {
	byType map[string][]*raw
	byURN  map[string]*raw
}

func TestSyntheaSearches(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(fixtures, "*.json"))
	if err != nil || len(files) < 30 {
		t.Fatalf("want the Synthea bundles (30 files) in %s, found %d (%v)", fixtures, len(files), err)
	}
	engines := []struct {
		name     string
		database func(t *testing.T) string
	}{
		{"sqlite", func(*testing.T) string { return "" }},
		{"postgres", func(t *testing.T) string { return testenv.PostgresURL(t) }},
	}
	for _, e := range engines {
		t.Run(e.name, func(t *testing.T) {
			base := start(t, e.database(t))
			w := load(t, base, files)
			for _, s := range searches(w) {
				t.Run(s.name, func(t *testing.T) {
					got := searchAll(t, base+"/"+s.query)
					s.check(t, got)
				})
			}
		})
	}
}

func start(t *testing.T, database string) string {
	cfg := &config.Config{
		DataDir: t.TempDir(), DatabaseURL: database,
		MasterKey:    "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
		MaxBodyBytes: 64 << 20, LogLevel: "warn", LogFormat: "text",
	}
	a, err := app.Open(t.Context(), cfg, slog.New(slog.NewTextHandler(io.Discard, nil)))
	if err != nil {
		t.Fatal(err)
	}
	srv := httptest.NewServer(a.Handler())
	t.Cleanup(func() { srv.Close(); a.Close() })
	return srv.URL + "/fhir"
}

// load posts every bundle and records the server id of each resource.
func load(t *testing.T, base string, files []string) *world {
	w := &world{byType: map[string][]*raw{}, byURN: map[string]*raw{}}
	for _, f := range files {
		body, err := os.ReadFile(f)
		if err != nil {
			t.Fatal(err)
		}
		var bundle struct {
			Entry []struct {
				FullURL  string
				Resource map[string]any
			}
		}
		if err := json.Unmarshal(body, &bundle); err != nil {
			t.Fatal(err)
		}
		resp, err := http.Post(base, "application/fhir+json", bytes.NewReader(body))
		if err != nil {
			t.Fatal(err)
		}
		var reply struct {
			Type  string
			Entry []struct {
				Response struct{ Status, Location string }
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&reply)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 || reply.Type != "transaction-response" || len(reply.Entry) != len(bundle.Entry) {
			t.Fatalf("%s: HTTP %d, %s with %d entries for %d (%v)", filepath.Base(f), resp.StatusCode, reply.Type, len(reply.Entry), len(bundle.Entry), err)
		}
		for i, e := range bundle.Entry {
			r := reply.Entry[i].Response
			parts := strings.Split(r.Location, "/")
			if !strings.HasPrefix(r.Status, "201") || len(parts) < 2 {
				t.Fatalf("%s entry %d: status %q location %q", filepath.Base(f), i, r.Status, r.Location)
			}
			typ := e.Resource["resourceType"].(string)
			id := parts[1]
			if parts[0] != typ { // Location is Type/id/_history/n
				id = parts[len(parts)-3]
			}
			rr := &raw{typ: typ, id: id, res: e.Resource}
			w.byType[typ] = append(w.byType[typ], rr)
			w.byURN[e.FullURL] = rr
		}
	}
	return w
}

// searchAll follows next links to the end and returns every match (not the
// included resources) and every included resource, by "Type/id".
type results struct {
	matches, included []string
	total             int // -1 when the server gave none
	resources         map[string]map[string]any
}

func searchAll(t *testing.T, u string) results {
	t.Helper()
	res := results{total: -1, resources: map[string]map[string]any{}}
	for page := 0; u != ""; page++ {
		if page > 500 {
			t.Fatal("more than 500 pages: next links loop")
		}
		resp, err := http.Get(u)
		if err != nil {
			t.Fatal(err)
		}
		var b struct {
			Total *int
			Link  []struct{ Relation, URL string }
			Entry []struct {
				Resource map[string]any
				Search   struct{ Mode string }
			}
		}
		err = json.NewDecoder(resp.Body).Decode(&b)
		resp.Body.Close()
		if err != nil || resp.StatusCode != 200 {
			t.Fatalf("GET %s: HTTP %d %v", u, resp.StatusCode, err)
		}
		if b.Total != nil {
			res.total = *b.Total
		}
		u = ""
		for _, l := range b.Link {
			if l.Relation == "next" {
				u = l.URL
			}
		}
		for _, e := range b.Entry {
			key := fmt.Sprint(e.Resource["resourceType"], "/", e.Resource["id"])
			switch e.Search.Mode {
			case "include":
				if !slices.Contains(res.included, key) {
					res.included = append(res.included, key)
				}
			case "match":
				res.matches = append(res.matches, key)
				res.resources[key] = e.Resource
			}
		}
	}
	return res
}

type search struct {
	name, query string
	check       func(t *testing.T, got results)
}

// sameSet fails unless got holds exactly want (order ignored, no duplicates).
func sameSet(t *testing.T, what string, got, want []string) {
	t.Helper()
	g, w := slices.Clone(got), slices.Clone(want)
	sort.Strings(g)
	sort.Strings(w)
	if len(slices.Compact(slices.Clone(g))) != len(g) {
		t.Errorf("%s: duplicates in the results", what)
	}
	if !slices.Equal(g, w) {
		t.Errorf("%s: got %d resources, want %d\n got: %.300v\nwant: %.300v", what, len(g), len(w), g, w)
	}
}

func keys(rs []*raw) []string {
	var out []string
	for _, r := range rs {
		out = append(out, r.typ+"/"+r.id)
	}
	return out
}

func filter(rs []*raw, keep func(*raw) bool) []*raw {
	var out []*raw
	for _, r := range rs {
		if keep(r) {
			out = append(out, r)
		}
	}
	return out
}

func str(m map[string]any, k string) string { s, _ := m[k].(string); return s }

func ref(m map[string]any, k string) string {
	r, _ := m[k].(map[string]any)
	return str(r, "reference")
}

func hasCoding(cc any, system, code string) bool {
	m, _ := cc.(map[string]any)
	codings, _ := m["coding"].([]any)
	for _, c := range codings {
		c, _ := c.(map[string]any)
		if str(c, "system") == system && str(c, "code") == code {
			return true
		}
	}
	return false
}

func instant(t *testing.T, s string) time.Time {
	v, err := time.Parse(time.RFC3339, s)
	if err != nil {
		t.Fatalf("bad instant %q in the fixtures: %v", s, err)
	}
	return v
}

func searches(w *world) []search {
	patients := w.byType["Patient"]
	// A patient and a family name shared by several patients.
	someone := patients[0]
	family := "Rippin"
	var out []search

	out = append(out, search{"Patient?family", "Patient?family=" + strings.ToLower(family), func(t *testing.T, got results) {
		want := filter(patients, func(r *raw) bool {
			names, _ := r.res["name"].([]any)
			for _, n := range names {
				f := str(n.(map[string]any), "family")
				if strings.HasPrefix(searchparam.NormalizeString(f), searchparam.NormalizeString(family)) {
					return true
				}
			}
			return false
		})
		if len(want) < 2 {
			t.Fatalf("fixture assumption: want several %s patients, have %d", family, len(want))
		}
		sameSet(t, "family", got.matches, keys(want))
	}})

	out = append(out, search{"Patient?birthdate=lt1970", "Patient?birthdate=lt1970", func(t *testing.T, got results) {
		want := filter(patients, func(r *raw) bool { return str(r.res, "birthDate") < "1970" })
		sameSet(t, "born before 1970", got.matches, keys(want))
	}})

	urnOf := func(p *raw) string {
		for urn, r := range w.byURN {
			if r == p {
				return urn
			}
		}
		return ""
	}
	out = append(out, search{"Observation?code&patient",
		"Observation?code=http://loinc.org|8302-2&patient=Patient/" + someone.id, func(t *testing.T, got results) {
			want := filter(w.byType["Observation"], func(r *raw) bool {
				return ref(r.res, "subject") == urnOf(someone) && hasCoding(r.res["code"], "http://loinc.org", "8302-2")
			})
			if len(want) == 0 {
				t.Fatal("fixture assumption: the first patient has body-height observations")
			}
			sameSet(t, "height of one patient", got.matches, keys(want))
		}})

	out = append(out, search{"Observation?date=ge2015 all pages", "Observation?date=ge2015-01-01&_count=50", func(t *testing.T, got results) {
		since := time.Date(2015, 1, 1, 0, 0, 0, 0, time.UTC)
		want := filter(w.byType["Observation"], func(r *raw) bool {
			s := str(r.res, "effectiveDateTime")
			return s != "" && !instant(t, s).Before(since)
		})
		sameSet(t, "observations since 2015", got.matches, keys(want))
	}})

	out = append(out, search{"Encounter?patient&_include=Encounter:practitioner",
		"Encounter?patient=" + someone.id + "&_include=Encounter:practitioner", func(t *testing.T, got results) {
			var practitioners []string
			want := filter(w.byType["Encounter"], func(r *raw) bool { return ref(r.res, "subject") == urnOf(someone) })
			for _, e := range want {
				parts, _ := e.res["participant"].([]any)
				for _, p := range parts {
					target := w.byURN[ref(p.(map[string]any), "individual")]
					if target != nil && target.typ == "Practitioner" {
						key := "Practitioner/" + target.id
						if !slices.Contains(practitioners, key) {
							practitioners = append(practitioners, key)
						}
					}
				}
			}
			if len(practitioners) == 0 {
				t.Fatal("fixture assumption: the encounters name practitioners")
			}
			sameSet(t, "encounters", got.matches, keys(want))
			sameSet(t, "included practitioners", got.included, practitioners)
		}})

	out = append(out, search{"Condition?_summary=count", "Condition?_summary=count", func(t *testing.T, got results) {
		if want := len(w.byType["Condition"]); got.total != want || len(got.matches) != 0 {
			t.Errorf("total = %d with %d entries, want %d and none", got.total, len(got.matches), want)
		}
	}})

	// A code some patients have and others not: _has must tell them apart.
	code := "2093-3" // total cholesterol: measured for 17 of the 30 patients
	out = append(out, search{"Patient?_has:Observation:patient:code", "Patient?_has:Observation:patient:code=http://loinc.org|" + code, func(t *testing.T, got results) {
		with := map[string]bool{}
		for _, o := range w.byType["Observation"] {
			if hasCoding(o.res["code"], "http://loinc.org", code) {
				with[ref(o.res, "subject")] = true
			}
		}
		want := filter(patients, func(r *raw) bool { return with[urnOf(r)] })
		if len(want) == 0 || len(want) == len(patients) {
			t.Fatalf("fixture assumption: some but not all patients have %s (%d of %d)", code, len(want), len(patients))
		}
		sameSet(t, "patients with "+code, got.matches, keys(want))
	}})

	out = append(out, search{"MedicationRequest?_sort=-authoredon", "MedicationRequest?_sort=-authoredon&_count=40", func(t *testing.T, got results) {
		sameSet(t, "medication requests", got.matches, keys(w.byType["MedicationRequest"]))
		var prev time.Time
		for i, k := range got.matches {
			at := instant(t, str(got.resources[k], "authoredOn"))
			if i > 0 && at.After(prev) {
				t.Fatalf("result %d (%s, %s) after %s: not sorted by descending authoredOn", i, k, at, prev)
			}
			prev = at
		}
	}})
	return out
}
