package demo_test

import (
	"bytes"
	"context"
	"encoding/json"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/demo"
	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/identity"
	"github.com/carnet-sante/carnet/internal/ins"
	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/store/postgres"
	"github.com/carnet-sante/carnet/internal/store/sqlite"
	"github.com/carnet-sante/carnet/internal/testenv"
)

// resources decodes the resources of the population's Bundle by type.
func resources(t *testing.T, p *demo.Population) map[string][]map[string]any {
	t.Helper()
	data, err := json.Marshal(p.Bundle)
	if err != nil {
		t.Fatal(err)
	}
	var b struct {
		Entry []struct{ Resource map[string]any }
	}
	dec := json.NewDecoder(bytes.NewReader(data))
	dec.UseNumber()
	if err := dec.Decode(&b); err != nil {
		t.Fatal(err)
	}
	out := map[string][]map[string]any{}
	for _, e := range b.Entry {
		typ, _ := e.Resource["resourceType"].(string)
		out[typ] = append(out[typ], e.Resource)
	}
	return out
}

// TestPopulation checks the population itself: its size, identities
// that the platform accepts without a warning, representatives of
// minors, professionals with valid RPPS, and that it never changes.
func TestPopulation(t *testing.T) {
	p, err := demo.Build()
	if err != nil {
		t.Fatal(err)
	}
	again, _ := demo.Build()
	a, _ := json.Marshal(p.Bundle)
	b, _ := json.Marshal(again.Bundle)
	if !bytes.Equal(a, b) {
		t.Fatal("two builds differ: the demo must be the same at every start")
	}
	res := resources(t, p)
	if n := len(res["Patient"]); n < 45 || n > 55 || n != p.Patients {
		t.Errorf("%d patients (counted %d), want about 50", n, p.Patients)
	}
	if n := len(res["Practitioner"]); n < 25 || n > 35 || n != p.Professionals {
		t.Errorf("%d professionals (counted %d), want about 30", n, p.Professionals)
	}
	if n := len(res["Organization"]); n < 2 || n > 6 || n != p.Structures {
		t.Errorf("%d structures (counted %d), want a few", n, p.Structures)
	}

	byID := map[string]map[string]any{}
	nirs, keys := map[string]bool{}, map[string]bool{}
	for _, pt := range res["Patient"] {
		byID["Patient/"+pt["id"].(string)] = pt
		id, err := ins.FromPatient(pt)
		if err != nil || len(id.INS) != 1 || id.INS[0].Kind != ins.KindNIRDemo || len(id.INS[0].Warnings) > 0 ||
			id.Status != ins.StatusQualified || id.Traits.Validate() != nil {
			t.Errorf("Patient/%s: identity %+v (%v): want a qualified identity with a valid demo INS", pt["id"], id, err)
			continue
		}
		if nirs[id.INS[0].NIR.String()] || keys[ins.DuplicateKey(id.Traits)] {
			t.Errorf("Patient/%s shares its NIR or its traits with another", pt["id"])
		}
		nirs[id.INS[0].NIR.String()], keys[ins.DuplicateKey(id.Traits)] = true, true
	}
	for _, rp := range res["RelatedPerson"] {
		child := byID[rp["patient"].(map[string]any)["reference"].(string)]
		rep, _ := json.Marshal(rp)
		if child == nil || child["birthDate"].(string) < "2010" || !strings.Contains(string(rep), `"code":"CUR"`) {
			t.Errorf("RelatedPerson/%s: want the legal representative (CUR) of a minor of the population", rp["id"])
		}
		ident := rp["identifier"].([]any)[0].(map[string]any)
		if !nirs[ident["value"].(string)] {
			t.Errorf("RelatedPerson/%s: the representative's INS is no patient's", rp["id"])
		}
	}
	if p.Representatives == 0 || p.Representatives != len(res["RelatedPerson"]) {
		t.Errorf("%d representatives (counted %d)", len(res["RelatedPerson"]), p.Representatives)
	}
	professions := map[string]bool{}
	for _, pr := range res["PractitionerRole"] {
		professions[pr["code"].([]any)[0].(map[string]any)["coding"].([]any)[0].(map[string]any)["code"].(string)] = true
	}
	if len(professions) < 3 {
		t.Errorf("professions %v, want several", professions)
	}
	rpps := 0
	for _, pr := range res["Practitioner"] {
		for _, id := range pr["identifier"].([]any) {
			m := id.(map[string]any)
			if m["system"] == directory.SystemRPPS {
				rpps++
				if err := (directory.Validator{}).RPPS(m["value"].(string)); err != nil {
					t.Errorf("Practitioner/%s: %v", pr["id"], err)
				}
			}
		}
	}
	if rpps < len(res["Practitioner"])/2 {
		t.Errorf("%d of %d professionals have an RPPS", rpps, len(res["Practitioner"]))
	}
	if p.Patient.Reference == "" || p.Professional.Reference == "" || !strings.Contains(p.Professional.Identifier, directory.SystemRPPS) {
		t.Errorf("banner people: %+v, %+v", p.Patient, p.Professional)
	}
}

// TestSeedTwice seeds the population through the API with the identity
// rules, on each engine: the first time without a warning, the second
// time writing nothing.
func TestSeedTwice(t *testing.T) {
	p, err := demo.Build()
	if err != nil {
		t.Fatal(err)
	}
	body, _ := json.Marshal(p.Bundle)
	engines := map[string]func() (store.Store, error){
		"sqlite": func() (store.Store, error) {
			return sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "c.db"))
		},
		"postgres": func() (store.Store, error) { return postgres.Open(context.Background(), testenv.PostgresURL(t)) },
	}
	for name, open := range engines {
		t.Run(name, func(t *testing.T) {
			s, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			h := rest.New(s, rest.Options{BaseURL: "http://x/fhir", Rules: identity.Rules(identity.Options{DuplicateKeySecret: []byte("k")})})
			for run, want := range []string{"201 Created", "200 OK"} {
				req := httptest.NewRequest(http.MethodPost, "http://x/fhir", bytes.NewReader(body))
				req.Header.Set("Content-Type", "application/fhir+json")
				req.Header.Set("Prefer", "return=OperationOutcome")
				rec := httptest.NewRecorder()
				h.ServeHTTP(rec, req)
				if rec.Code != http.StatusOK {
					t.Fatalf("run %d: %d %s", run, rec.Code, rec.Body)
				}
				var out struct {
					Entry []struct {
						Response struct {
							Status  string
							Outcome struct {
								Issue []struct{ Severity, Diagnostics string }
							}
						}
					}
				}
				json.Unmarshal(rec.Body.Bytes(), &out)
				for i, e := range out.Entry {
					r := e.Response
					if r.Status != want || len(r.Outcome.Issue) != 1 || run == 1 && !strings.HasPrefix(r.Outcome.Issue[0].Diagnostics, "unchanged") {
						t.Errorf("run %d, entry %d: %s %+v", run, i, r.Status, r.Outcome.Issue)
					}
				}
			}
		})
	}
}
