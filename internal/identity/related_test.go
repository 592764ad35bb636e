package identity_test

import (
	"net/http"
	"net/url"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/identity"
	"github.com/carnet-sante/carnet/internal/ins"
)

// representative returns a RelatedPerson representing Patient/patient
// with the relationship codes, carrying the representative's INS.
func representative(patient, insValue string, codes ...string) map[string]any {
	var rel []any
	for _, c := range codes {
		rel = append(rel, map[string]any{"coding": []any{map[string]any{"system": identity.SystemContactRelationship, "code": c}}})
	}
	return map[string]any{
		"resourceType": "RelatedPerson",
		"patient":      map[string]any{"reference": "Patient/" + patient},
		"relationship": rel,
		"identifier":   []any{map[string]any{"system": ins.SystemNIRDemo, "value": insValue}},
		"name":         []any{map[string]any{"family": "DURAND", "given": []any{"Marie"}}},
	}
}

// TestLegalRepresentatives: the representative of a minor, found from
// their own INS; a représentant légal of an adult is a warning; a
// representative of no known Patient, or with a broken INS, is refused.
func TestLegalRepresentatives(t *testing.T) {
	parentNIR := nir(11, ins.SexFemale, 1979, 3, "51215")
	child := person{id: "child", birthName: "DURAND", given: "Léo", birthDate: "2016-04-02", sex: ins.SexMale, birthplace: "51215"}
	adult := person{id: "adult", birthName: "DURAND", given: "Jean", birthDate: "1950-01-01", sex: ins.SexMale, birthplace: "51215"}
	tests := []struct {
		name     string
		res      map[string]any
		status   int
		severity string
		path     string
	}{
		{"mother of a minor", representative("child", parentNIR, "CUR", "MTH"), http.StatusCreated, "", ""},
		{"guardian of an adult", representative("adult", parentNIR, "GRD"), http.StatusCreated, "", ""},
		{"représentant légal of an adult", representative("adult", parentNIR, "CUR"), http.StatusCreated, "warning", "RelatedPerson.relationship"},
		{"representative of no Patient", representative("nobody", parentNIR, "CUR"), http.StatusUnprocessableEntity, "error", "RelatedPerson.patient"},
		{"trusted person of no Patient is no representative", representative("nobody", parentNIR, "K"), http.StatusCreated, "", ""},
		{"malformed INS", representative("child", "1234", "CUR"), http.StatusBadRequest, "error", "RelatedPerson.identifier[0]"},
	}
	forEachEngine(t, defaults, func(t *testing.T, c *client) {
		c.do(http.MethodPut, "Patient/child", child.patient()).must(t, http.StatusCreated)
		c.do(http.MethodPut, "Patient/adult", adult.patient()).must(t, http.StatusCreated)
		for _, tt := range tests {
			t.Run(tt.name, func(t *testing.T) {
				r := c.do(http.MethodPost, "RelatedPerson", tt.res).must(t, tt.status)
				if tt.severity == "" {
					if str(r.json, "resourceType") != "RelatedPerson" {
						t.Errorf("a clean write answers the RelatedPerson; got %s", r.body)
					}
					return
				}
				if is := findIssue(r.json, tt.severity, tt.path); is == nil {
					t.Errorf("want a %s naming %s; got %s", tt.severity, tt.path, r.body)
				}
			})
		}
		// Whom does the parent represent? A search on their INS.
		r := c.do(http.MethodGet, "RelatedPerson?identifier="+url.QueryEscape(ins.SystemNIRDemo+"|"+parentNIR)+"&relationship=CUR&patient.birthdate=gt2008", nil).must(t, http.StatusOK)
		if got := strings.Join(patientsOf(r.json), " "); got != "Patient/child" {
			t.Errorf("minors represented: %q, want Patient/child", got)
		}
	})
}

// patientsOf returns the patients of the RelatedPersons of a searchset.
func patientsOf(b map[string]any) []string {
	var out []string
	for _, e := range entries(b) {
		if str(e, "search.mode") == "match" {
			out = append(out, str(e, "resource.patient.reference"))
		}
	}
	return out
}
