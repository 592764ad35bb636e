package rest_test

import (
	"context"
	"errors"
	"net/http"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/store"
)

// onePatient is a Guard that lets the caller see one patient's record and
// the resources outside every compartment.
type onePatient struct{ id *string }

func (g onePatient) Query(_ context.Context, q *search.Query) error {
	q.Restrict = &search.Restriction{Patients: []string{*g.id, ""}}
	return nil
}

func (g onePatient) Resource(_ context.Context, r *store.Resource) error {
	if r.PatientKey != "" && r.PatientKey != *g.id {
		return errors.New("this record is not yours to read")
	}
	return nil
}

// TestGuard checks that every read path asks the Guard: what it does not
// admit is neither returned, nor counted, nor included.
func TestGuard(t *testing.T) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			var allowed string
			c := newClient(t, e.Open(t), rest.Options{Guard: onePatient{&allowed}})
			allowed = c.create(patient("Allowed", "a"))
			other := c.create(patient("Other", "o"))
			mine := c.create(observation("Patient/"+allowed, "1"))
			theirs := c.create(observation("Patient/"+other, "1"))

			c.do(http.MethodGet, "Observation/"+mine, nil).must(t, http.StatusOK)
			c.do(http.MethodGet, "Observation/"+theirs, nil).outcome(t, http.StatusForbidden, "not yours")
			c.do(http.MethodGet, "Observation/"+theirs+"/_history/1", nil).outcome(t, http.StatusForbidden, "not yours")
			c.do(http.MethodGet, "Observation/"+theirs+"/_history", nil).outcome(t, http.StatusForbidden, "not yours")
			c.do(http.MethodGet, "Patient/"+other+"/$everything", nil).outcome(t, http.StatusForbidden, "not yours")

			r := c.do(http.MethodGet, "Observation?code=1&_total=accurate&_include=Observation:subject", nil).must(t, http.StatusOK)
			if got := ids(r.json, ""); len(got) != 2 || at(r.json, "total") != float64(1) {
				t.Errorf("search through the guard: %v, total %v", got, at(r.json, "total"))
			}
			r = c.do(http.MethodGet, "Observation/_history", nil).must(t, http.StatusOK)
			if got := ids(r.json, ""); len(got) != 1 || got[0] != "Observation/"+mine {
				t.Errorf("type history through the guard: %v", got)
			}
		})
	}
}
