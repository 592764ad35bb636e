package rest_test

import (
	"context"
	"net/http"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/store"
)

// stampKey carries what the test preparer tells the test rule.
type stampKey struct{}

// stamper is a Preparer that names every new Patient "p-<family>", makes
// its create conditional on that id, tags it, warns, and tells the rules
// through the context; it refuses a Patient named "Refused".
type stamper struct{ seen []*rest.PrepareRequest }

func (s *stamper) Prepare(ctx context.Context, r *rest.PrepareRequest) (context.Context, error) {
	s.seen = append(s.seen, r)
	for _, e := range r.Entries {
		if e.Type != "Patient" || e.Method != http.MethodPost {
			continue
		}
		family := str(e.Resource, "name.0.family")
		if family == "Refused" {
			return ctx, rest.NewError(http.StatusUnprocessableEntity, "business-rule", "entry %d: refused", e.Index)
		}
		e.ID = "p-" + family
		e.IfNoneExist = "_id=" + e.ID
		e.Resource["active"] = true
		e.Issues = append(e.Issues, rest.Issue{Severity: "warning", Code: "informational", Diagnostics: "prepared " + e.ID})
	}
	return context.WithValue(ctx, stampKey{}, "stamped"), nil
}

func TestPreparer(t *testing.T) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			p := &stamper{}
			rule := rest.RuleFunc(func(ctx context.Context, tx store.ResourceTx, w *rest.WriteRequest) ([]rest.Issue, error) {
				if v, _ := ctx.Value(stampKey{}).(string); v == "stamped" {
					w.Resource["gender"] = "other"
				}
				return nil, nil
			})
			c := newClient(t, e.Open(t), rest.Options{Preparers: []rest.Preparer{p}, Rules: map[string][]rest.Rule{"Patient": {rule}}})

			// A single create: the preparer's id, changes and warning; the
			// rule saw its context.
			r := c.do(http.MethodPost, "Patient", patient("Alone", "1"), "Prefer", "return=representation").must(t, http.StatusCreated)
			if str(r.json, "id") != "p-Alone" || r.json["active"] != true || str(r.json, "gender") != "other" {
				t.Errorf("single create: %s", r.body)
			}
			r = c.do(http.MethodPost, "Patient", patient("Alone", "1")).must(t, http.StatusOK)
			if str(r.json, "resourceType") != "OperationOutcome" || !hasDiagnostic(r.json, "prepared p-Alone") {
				t.Errorf("second create, matched by the preparer's If-None-Exist: %s", r.body)
			}

			// A transaction: every write entry is shown once, in order.
			b := tx("transaction", post("urn:uuid:00000000-0000-4000-8000-000000000001", patient("Bundled", "2")),
				post("", observation("urn:uuid:00000000-0000-4000-8000-000000000001", "x")),
				request("GET", "Patient/p-Alone", nil))
			r = c.do(http.MethodPost, "", b).must(t, http.StatusOK)
			last := p.seen[len(p.seen)-1]
			if !last.Bundle || len(last.Entries) != 2 || last.Entries[1].Index != 1 || last.Entries[0].FullURL == "" {
				t.Errorf("the preparer saw %+v", last)
			}
			es := entries(r.json)
			if str(es[0], "response.location") != "Patient/p-Bundled/_history/1" || str(es[1], "resource.subject.reference") != "Patient/p-Bundled" {
				t.Errorf("transaction: %s", r.body)
			}
			if !hasDiagnostic(at(es[0], "response.outcome"), "prepared p-Bundled") {
				t.Errorf("the preparer's warning is not in the entry's outcome: %v", es[0]["response"])
			}

			// A refusal fails the whole request and writes nothing.
			b = tx("transaction", post("", patient("Fine", "3")), post("", patient("Refused", "4")))
			c.do(http.MethodPost, "", b).outcome(t, http.StatusUnprocessableEntity, "entry 1: refused")
			c.do(http.MethodGet, "Patient/p-Fine", nil).outcome(t, http.StatusNotFound)
		})
	}
}

// hasDiagnostic reports whether an OperationOutcome has an issue with
// that diagnostics.
func hasDiagnostic(outcome any, diagnostics string) bool {
	issues, _ := at(outcome, "issue").([]any)
	for _, is := range issues {
		if str(is, "diagnostics") == diagnostics {
			return true
		}
	}
	return false
}
