package sqlstore_test

import (
	"database/sql"
	"encoding/json"
	"fmt"
	"net/url"
	"path/filepath"
	"regexp"
	"slices"
	"strconv"
	"strings"
	"testing"
	"time"

	_ "modernc.org/sqlite"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/store/postgres"
	"github.com/carnet-sante/carnet/internal/store/sqlite"
	"github.com/carnet-sante/carnet/internal/store/sqlstore"
	"github.com/carnet-sante/carnet/internal/testenv"
)

// patientFixture is the record of the patient plan tests. Patient pa has
// documents d01…d25: every fourth superseded, d08 deleted, d07
// restricted (confidentiality R), dates with ties and some missing (for
// the sort), authored by Practitioner/pr1 or, every fifth, by pa. Around
// them, the documents that point to pa without being filed under pa's key
// (searchparam.PatientRefs files a resource under the first patient of
// its compartment parameters, subject then author):
//
//	dx    subject pb, author pa: filed under pb
//	dabs  subject pa by an absolute URL, which puts it in no compartment
//	dg    subject Group/g1, author pa: filed under pa, but not pa's subject
//	drel  subject pb, context.related pa (not a compartment parameter)
//	lb1   a List of pb holding d06
//
// and documents of pb alone (b1…b3).
func patientFixture() []string {
	var rs []string
	add := func(format string, args ...any) { rs = append(rs, fmt.Sprintf(format, args...)) }
	add(`{"resourceType":"Patient","id":"pa","gender":"female","name":[{"family":"Alpha"}]}`)
	add(`{"resourceType":"Patient","id":"pb","gender":"male","name":[{"family":"Beta"}]}`)
	add(`{"resourceType":"Practitioner","id":"pr1","name":[{"family":"House"}]}`)
	add(`{"resourceType":"Group","id":"g1","type":"person","actual":true}`)
	for i := 1; i <= 25; i++ {
		status := "current"
		if i%4 == 0 {
			status = "superseded"
		}
		author := "Practitioner/pr1"
		if i%5 == 0 {
			author = "Patient/pa"
		}
		date := ""
		if i%7 != 0 {
			date = fmt.Sprintf(`,"date":"2024-01-%02dT10:00:00Z"`, 1+i%10) // ties
		}
		meta := ""
		if i == 7 {
			meta = `,"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}`
		}
		desc := ""
		if i%3 == 0 {
			desc = `,"description":"compte rendu"`
		}
		add(`{"resourceType":"DocumentReference","id":"d%02d"%s,"status":"%s","subject":{"reference":"Patient/pa"},
		  "author":[{"reference":"%s"}]%s%s,"content":[{"attachment":{"contentType":"text/plain"}}]}`, i, meta, status, author, date, desc)
	}
	for i := 1; i <= 3; i++ {
		add(`{"resourceType":"DocumentReference","id":"b%d","status":"current","subject":{"reference":"Patient/pb"},
		  "date":"2024-02-0%dT10:00:00Z","content":[{"attachment":{"contentType":"text/plain"}}]}`, i, i)
	}
	add(`{"resourceType":"DocumentReference","id":"dx","status":"current","subject":{"reference":"Patient/pb"},
	  "author":[{"reference":"Patient/pa"}],"date":"2024-03-01T10:00:00Z","content":[{"attachment":{"contentType":"text/plain"}}]}`)
	add(`{"resourceType":"DocumentReference","id":"dabs","status":"current","subject":{"reference":"https://other.example/fhir/Patient/pa"},
	  "author":[{"reference":"Practitioner/pr1"}],"date":"2024-03-02T10:00:00Z","content":[{"attachment":{"contentType":"text/plain"}}]}`)
	add(`{"resourceType":"DocumentReference","id":"dg","status":"current","subject":{"reference":"Group/g1"},
	  "author":[{"reference":"Patient/pa"}],"date":"2024-03-03T10:00:00Z","content":[{"attachment":{"contentType":"text/plain"}}]}`)
	add(`{"resourceType":"DocumentReference","id":"drel","status":"current","subject":{"reference":"Patient/pb"},
	  "context":{"related":[{"reference":"Patient/pa"}]},"date":"2024-03-04T10:00:00Z","content":[{"attachment":{"contentType":"text/plain"}}]}`)
	add(`{"resourceType":"List","id":"la1","status":"current","mode":"working","code":{"coding":[{"code":"submissionset"}]},
	  "subject":{"reference":"Patient/pa"},"entry":[{"item":{"reference":"DocumentReference/d01"}},{"item":{"reference":"DocumentReference/d02"}},
	  {"item":{"reference":"DocumentReference/d03"}},{"item":{"reference":"DocumentReference/d04"}},{"item":{"reference":"DocumentReference/d05"}}]}`)
	add(`{"resourceType":"List","id":"lb1","status":"current","mode":"working","code":{"coding":[{"code":"submissionset"}]},
	  "subject":{"reference":"Patient/pb"},"entry":[{"item":{"reference":"DocumentReference/b1"}},{"item":{"reference":"DocumentReference/d06"}}]}`)
	return rs
}

var fixtureTime = time.Date(2024, 6, 1, 12, 0, 0, 0, time.UTC)

// writeOf is the write of a resource as the REST layer makes it: its
// search values and its patient key.
func writeOf(t *testing.T, src string, at time.Time) store.Write {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(src))
	d.UseNumber()
	var res map[string]any
	if err := d.Decode(&res); err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	typ, _ := res["resourceType"].(string)
	id, _ := res["id"].(string)
	index, err := searchparam.Extract(typ, res)
	if err != nil {
		t.Fatalf("%s: %v", src, err)
	}
	key := ""
	if refs := searchparam.PatientRefs(typ, res); len(refs) > 0 {
		key = refs[0]
	}
	return store.Write{
		Resource: store.Resource{Type: typ, ID: id, PatientKey: key, Version: 1, LastUpdated: at, Content: []byte(src)},
		Index:    index,
	}
}

// patientStore returns a store of the engine holding patientFixture, d08
// deleted, and the address of its database.
func patientStore(t *testing.T, engine string) (store.Store, string) {
	t.Helper()
	ctx := t.Context()
	var s store.Store
	var addr string
	var err error
	switch engine {
	case "sqlite":
		addr = filepath.Join(t.TempDir(), "carnet.db")
		s, err = sqlite.Open(ctx, addr)
	case "postgres":
		addr = testenv.PostgresURL(t)
		s, err = postgres.Open(ctx, addr)
	}
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	var ws []store.Write
	for i, src := range patientFixture() {
		ws = append(ws, writeOf(t, src, fixtureTime.Add(time.Duration(i)*time.Second)))
	}
	update(t, s, ws...)
	r, err := s.Read(ctx, "DocumentReference", "d08")
	if err != nil {
		t.Fatal(err)
	}
	update(t, s, store.Write{Resource: store.Resource{Type: r.Type, ID: r.ID, PatientKey: r.PatientKey,
		Version: 2, LastUpdated: fixtureTime.Add(time.Hour), Deleted: true}, ExpectVersion: 1})
	return s, addr
}

func update(t *testing.T, s store.Store, ws ...store.Write) {
	t.Helper()
	err := s.Update(t.Context(), func(tx store.ResourceTx) error {
		for _, w := range ws {
			if err := tx.Write(t.Context(), w); err != nil {
				return err
			}
		}
		return nil
	})
	if err != nil {
		t.Fatal(err)
	}
}

// patientQuery parses a search as the REST layer does (which sets
// Query.Compartment for patient=X), then sets the compartment when one is
// given (Patient/X/Type, $everything).
func patientQuery(t *testing.T, typ, query, compartment string) *search.Query {
	t.Helper()
	values, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	q := &search.Query{Type: typ}
	if typ != "" {
		req, err := search.Parse(typ, values, search.Options{})
		if err != nil {
			t.Fatalf("%s?%s: %v", typ, query, err)
		}
		if len(req.Ignored) > 0 {
			t.Fatalf("%s?%s: the parser ignored %v", typ, query, req.Ignored)
		}
		q = &req.Query
	}
	if typ == "" && values.Has("_count") {
		if q.Count, err = strconv.Atoi(values.Get("_count")); err != nil {
			t.Fatal(err)
		}
	}
	if compartment != "" {
		q.Compartment = compartment
	}
	return q
}

// result is everything a search gives, through all its pages.
type result struct {
	matches  []string // in order, page after page
	included []string // page after page
	totals   []int
	pages    int
}

// searchAll runs q and follows its next links to the end.
func searchAll(t *testing.T, s store.Store, q *search.Query) result {
	t.Helper()
	q = new(*q)
	var res result
	for {
		p, err := s.Search(t.Context(), q)
		if err != nil {
			t.Fatal(err)
		}
		res.pages++
		for _, r := range p.Resources {
			res.matches = append(res.matches, r.Type+"/"+r.ID)
		}
		for _, r := range p.Included {
			res.included = append(res.included, r.Type+"/"+r.ID)
		}
		res.totals = append(res.totals, p.Total)
		if p.Next == nil || res.pages > 100 {
			return res
		}
		q.After = p.Next
	}
}

func docs(ids ...string) []string {
	out := make([]string, len(ids))
	for i, id := range ids {
		out[i] = "DocumentReference/" + id
	}
	slices.Sort(out)
	return out
}

// paDocs are pa's live documents, d01…d25 but d08; current, those that
// are not superseded.
func paDocs(current bool) []string {
	var ids []string
	for i := 1; i <= 25; i++ {
		if i == 8 || current && i%4 == 0 {
			continue
		}
		ids = append(ids, fmt.Sprintf("d%02d", i))
	}
	return docs(ids...)
}

// TestPatientPlans checks that the plans by patient (scope.check, anchor)
// find exactly what the plain plans, one uncorrelated IN subquery per
// clause, found before them: the same matches in the same order, page
// after page, the same totals and includes; and, where the fixture makes
// a point, the matches themselves.
func TestPatientPlans(t *testing.T) {
	hideR := patientQuery(t, "DocumentReference",
		"_security:not=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R", "").Where
	cases := []struct {
		name, typ, query, compartment string
		restrict                      *search.Restriction
		want                          []string // sorted; nil: compare with the plain plan only
	}{
		{name: "patient alone", typ: "DocumentReference", query: "patient=pa", want: paDocs(false)},
		{name: "patient and status", typ: "DocumentReference", query: "patient=pa&status=current", want: paDocs(true)},
		{name: "patient list, paged", typ: "DocumentReference", query: "patient=pa&status=current&_sort=-date&_count=4", want: paDocs(true)},
		{name: "patient list, one page", typ: "DocumentReference", query: "patient=pa&status=current&_sort=-date&_count=100", want: paDocs(true)},
		{name: "patient list, sorted up", typ: "DocumentReference", query: "patient=Patient/pa&status=current&_sort=date,-_lastUpdated&_count=3"},
		{name: "patient, total", typ: "DocumentReference", query: "patient=pa&status=current&_total=accurate&_count=5", want: paDocs(true)},
		{name: "patient, summary count", typ: "DocumentReference", query: "patient=pa&status=current&_summary=count", want: []string{}},
		{name: "subject Patient/pa: also the absolute reference", typ: "DocumentReference", query: "subject=Patient/pa&_count=7",
			want: append(paDocs(false), "DocumentReference/dabs")},
		{name: "subject:Patient", typ: "DocumentReference", query: "subject:Patient=pa&status=current&_sort=-date&_count=4",
			want: slices.Sorted(slices.Values(append(paDocs(true), "DocumentReference/dabs")))},
		{name: "subject by id alone (any type)", typ: "DocumentReference", query: "subject=pa&status=current",
			want: slices.Sorted(slices.Values(append(paDocs(true), "DocumentReference/dabs")))},
		{name: "author: filed under another key", typ: "DocumentReference", query: "author=Patient/pa&_sort=-date&_count=2",
			want: docs("d05", "d10", "d15", "d20", "d25", "dg", "dx")},
		{name: "another patient's documents", typ: "DocumentReference", query: "patient=pb", want: docs("b1", "b2", "b3", "drel", "dx")},
		{name: "another patient, sorted", typ: "DocumentReference", query: "patient=pb&status=current&_sort=-date&_count=2",
			want: docs("b1", "b2", "b3", "drel", "dx")},
		{name: "nobody", typ: "DocumentReference", query: "patient=nobody&status=current", want: []string{}},
		// No compartment, no anchor: the reference index alone, which, unlike
		// patient=pa (a compartment, see search.Parse), finds dabs.
		{name: "two patients", typ: "DocumentReference", query: "patient=pa,pb&status=current&_count=5",
			want: slices.Sorted(slices.Values(append(paDocs(true), docs("b1", "b2", "b3", "dabs", "drel", "dx")...)))},
		{name: "not a compartment parameter", typ: "DocumentReference", query: "related=Patient/pa", want: docs("drel")},
		{name: "not a compartment parameter, with patient", typ: "DocumentReference", query: "patient=pb&related=Patient/pa", want: docs("drel")},
		{name: "chain", typ: "DocumentReference", query: "patient=pa&author:Practitioner.name=house&status=current",
			want: docs("d01", "d02", "d03", "d06", "d07", "d09", "d11", "d13", "d14", "d17", "d18", "d19", "d21", "d22", "d23")},
		{name: "chain to the patient", typ: "DocumentReference", query: "patient=pa&patient.gender=female", want: paDocs(false)},
		{name: "chain to the patient, no match", typ: "DocumentReference", query: "patient=pa&patient.gender=male", want: []string{}},
		{name: "chain with anchor", typ: "DocumentReference", query: "subject=Patient/pa&author:Practitioner.name=house&_count=4"},
		{name: "_has, source under another key", typ: "DocumentReference", query: "patient=pa&_has:List:item:code=submissionset",
			want: docs("d01", "d02", "d03", "d04", "d05", "d06")},
		{name: "_has with anchor", typ: "DocumentReference", query: "subject=Patient/pa&_has:List:item:subject=Patient/pb",
			want: docs("d06")},
		{name: "_has with _lastUpdated", typ: "DocumentReference", query: "patient=pa&_has:List:item:_lastUpdated=ge2024-06-01",
			want: docs("d01", "d02", "d03", "d04", "d05", "d06")},
		{name: ":not", typ: "DocumentReference", query: "patient=pa&status:not=current",
			want: docs("d04", "d12", "d16", "d20", "d24")},
		{name: ":not system|code", typ: "DocumentReference", query: "patient=pa&_security:not=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R&status=current",
			want: slices.DeleteFunc(paDocs(true), func(s string) bool { return s == "DocumentReference/d07" })},
		{name: ":missing", typ: "DocumentReference", query: "patient=pa&date:missing=true", want: docs("d07", "d14", "d21")},
		{name: "string", typ: "DocumentReference", query: "patient=pa&description=compte&status=current",
			want: docs("d03", "d06", "d09", "d15", "d18", "d21")},
		{name: "date", typ: "DocumentReference", query: "patient=pa&date=ge2024-01-09", want: docs("d09", "d18", "d19")},
		{name: "_id and _lastUpdated", typ: "DocumentReference", query: "patient=pa&_id=d01,d02,b1,dx&_lastUpdated=ge2024-06-01",
			want: docs("d01", "d02")},
		{name: "include and revinclude", typ: "DocumentReference",
			query: "patient=pa&status=current&_count=6&_include=DocumentReference:author&_revinclude=List:item"},
		{name: "compartment with clauses", typ: "DocumentReference", query: "status=current&_sort=-date&_count=4", compartment: "pa",
			want: slices.Sorted(slices.Values(append(paDocs(true), "DocumentReference/dg")))},
		{name: "$everything", compartment: "pa", query: "_count=7"},
		{name: "restricted to patients", typ: "DocumentReference", query: "subject=Patient/pa&_count=5",
			restrict: &search.Restriction{Patients: []string{"pa"}}, want: paDocs(false)},
		{name: "restricted by a clause", typ: "DocumentReference", query: "patient=pa&status=current&_sort=-date&_count=4",
			restrict: &search.Restriction{Where: hideR}, want: slices.DeleteFunc(paDocs(true), func(s string) bool { return s == "DocumentReference/d07" })},
		{name: "restricted, chain and _has", typ: "DocumentReference",
			query:    "author=Patient/pa&_has:List:item:code=submissionset&_count=2",
			restrict: &search.Restriction{Patients: []string{"pa", "pb", ""}, Where: hideR}, want: docs("d05")},
	}
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			s, _ := patientStore(t, engine)
			for _, tc := range cases {
				t.Run(tc.name, func(t *testing.T) {
					q := patientQuery(t, tc.typ, tc.query, tc.compartment)
					q.Restrict = tc.restrict
					sqlstore.SetPlainPlans(t, true)
					plain := searchAll(t, s, q)
					sqlstore.SetPlainPlans(t, false)
					got := searchAll(t, s, q)
					if !slices.Equal(got.matches, plain.matches) || !slices.Equal(got.included, plain.included) ||
						!slices.Equal(got.totals, plain.totals) || got.pages != plain.pages {
						t.Errorf("%s?%s (compartment %q):\n  got   %+v\n  plain %+v", tc.typ, tc.query, tc.compartment, got, plain)
					}
					if tc.want != nil {
						if sorted := slices.Sorted(slices.Values(got.matches)); !slices.Equal(sorted, tc.want) {
							t.Errorf("%s?%s: found %v; want %v", tc.typ, tc.query, sorted, tc.want)
						}
					}
				})
			}
		})
	}
}

// TestPatientPlanSQLite checks, with EXPLAIN QUERY PLAN on a database
// without statistics (as after a bulk load), that SQLite enters every
// table of a search that pins the patient by its primary key, or by the
// reference index for the one clause that drives it, and never reads a
// value index (every current DocumentReference for status=current).
func TestPatientPlanSQLite(t *testing.T) {
	_, path := patientStore(t, "sqlite")
	db, err := sql.Open("sqlite", "file:"+path+"?mode=ro")
	if err != nil {
		t.Fatal(err)
	}
	defer db.Close()
	valueIndex := regexp.MustCompile(`search_(string_norm|token_code|date_range|number_value|quantity_value|uri_uri|reference_url|reference_identifier)`)
	for _, tc := range []struct {
		query string
		// driver is the plan line of the clause that drives the search.
		driver string
	}{
		{"patient=pa&status=current&_sort=-date&_count=20", "SEARCH r USING PRIMARY KEY (patient_key=? AND type=?)"},
		{"patient=pa&description=compte&date=ge2024-01-05&type:missing=true&_sort=-date", "SEARCH r USING PRIMARY KEY (patient_key=? AND type=?)"},
		{"patient=pa&author:Practitioner.name=house&_has:List:item:code=submissionset", "SEARCH r USING PRIMARY KEY (patient_key=? AND type=?)"},
		{"patient=pa&security-label:not=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R&status:not=superseded", "SEARCH r USING PRIMARY KEY (patient_key=? AND type=?)"},
		{"subject=Patient/pa&status=current&_sort=-date&_count=20", "USING COVERING INDEX search_reference_target (ref_id=? AND type=? AND param=? AND ref_type=?)"},
	} {
		q := patientQuery(t, "DocumentReference", tc.query, "")
		stmt, args, err := sqlstore.PageSQL(q)
		if err != nil {
			t.Fatal(err)
		}
		stmt = regexp.MustCompile(`\$(\d+)`).ReplaceAllString(stmt, "?$1")
		rows, err := db.Query("EXPLAIN QUERY PLAN "+stmt, args...)
		if err != nil {
			t.Fatal(err)
		}
		var plan []string
		for rows.Next() {
			var id, parent, unused int
			var detail string
			if err := rows.Scan(&id, &parent, &unused, &detail); err != nil {
				t.Fatal(err)
			}
			plan = append(plan, detail)
		}
		rows.Close()
		text := strings.Join(plan, "\n")
		if !strings.Contains(text, tc.driver) {
			t.Errorf("%s: the plan is not driven by %q:\n%s", tc.query, tc.driver, text)
		}
		for _, line := range plan {
			if valueIndex.MatchString(line) || strings.HasPrefix(line, "SCAN") && line != "SCAN p" {
				t.Errorf("%s: %q in the plan:\n%s", tc.query, line, text)
			}
		}
	}
}
