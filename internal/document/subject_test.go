package document_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/document"
	"github.com/carnet-sante/carnet/internal/identity"
)

// withRecordStatus gives the service the identity service's opt-out
// rule, as the app does.
func withRecordStatus(o *document.Options) {
	o.RecordStatus = func(p map[string]any) (bool, string, string) {
		s, reason := identity.RecordStatus(p)
		return s == identity.RecordOpen, string(s), reason
	}
}

// TestSubject covers how a deposit names its patient, and the opt-out
// rule: a record is opened on the first deposit for an INS nobody has,
// and nothing is deposited in a record objected to or closed.
func TestSubject(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		registered := map[string]any{"resourceType": "Patient", "id": "registered",
			"identifier": []any{map[string]any{"system": insDemo, "value": "279035121518989"}}}
		e.do(http.MethodPut, "Patient/registered", registered).must(t, http.StatusCreated)
		for name, state := range map[string]identity.RecordState{"objected": identity.RecordObjected, "closed": identity.RecordClosed} {
			p := map[string]any{"resourceType": "Patient", "id": name}
			reason := ""
			if state == identity.RecordClosed {
				reason = "déménagement à l'étranger"
			}
			if err := identity.SetRecordStatus(p, state, reason, time.Now()); err != nil {
				t.Fatal(err)
			}
			e.do(http.MethodPut, "Patient/"+name, p).must(t, http.StatusCreated)
		}

		tests := []struct {
			name, subject string
			status        int
			parts         []string // of the outcome, or of a warning
		}{
			{"literal", "Patient/registered", 200, nil},
			{"absolute", e.base + "/Patient/registered", 200, nil},
			{"conditional on a registered INS", "Patient?identifier=" + insDemo + "|279035121518989", 200, nil},
			{"first deposit for an INS", "Patient?identifier=" + insProd + "|180017505600103", 200, nil},
			{"test INS with a wrong key", "Patient?identifier=" + insTest + "|279035121518900", 200, []string{"warning", "tolerated under the INS-NIR-TEST system"}},
			{"production INS with a wrong key", "Patient?identifier=" + insProd + "|279035121518900", 422, []string{"DocumentReference.subject.reference", "invalid INS", "key"}},
			{"unknown patient", "Patient/nobody", 422, []string{"Patient/nobody is not known"}},
			{"unknown non-INS identifier", "Patient?identifier=urn:oid:1.2.3|42", 422, []string{"only for a patient named by INS"}},
			{"two criteria", "Patient?identifier=" + insDemo + "|279035121518989&family=X", 422, []string{"one criterion"}},
			{"not a patient", "Group/1", 422, []string{"does not name a Patient"}},
			{"objected record", "Patient/objected", 422, []string{"the shared record of Patient/objected is objected"}},
			{"closed record", "Patient/closed", 422, []string{"is closed (déménagement à l'étranger)"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.do(http.MethodPost, "", provideBundle(tc.subject, doc{master: masterFor("subject " + tc.name)}))
				if tc.status != 200 {
					r.outcome(t, tc.status, tc.parts...)
					return
				}
				r.must(t, http.StatusOK)
				outcome := diagnostics(at(entries(r.json)[1], "response.outcome"))
				for _, p := range tc.parts {
					if !strings.Contains(outcome, p) {
						t.Errorf("the response does not mention %q:\n%s", p, outcome)
					}
				}
			})
		}
		// The record opened on the first deposit is one Patient, found
		// by its INS, whatever the number of deposits.
		r := e.do(http.MethodGet, "Patient?identifier="+insProd+"|180017505600103", nil).must(t, http.StatusOK)
		if n := len(entries(r.json)); n != 1 {
			t.Errorf("%d patients with the INS, want 1", n)
		}
		e.deposited(t, "Patient?identifier="+insProd+"|180017505600103", doc{master: masterFor("second deposit")})
		r = e.do(http.MethodGet, "Patient?identifier="+insProd+"|180017505600103", nil).must(t, http.StatusOK)
		if n := len(entries(r.json)); n != 1 {
			t.Errorf("%d patients with the INS after a second deposit, want 1", n)
		}
	}, withRecordStatus)
}

// TestFirstDepositsAtOnce deposits for a new INS from many clients at
// once: one Patient is created.
func TestFirstDepositsAtOnce(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		const n = 8
		subject := "Patient?identifier=" + insProd + "|279035121518989"
		statuses := make(chan int, n)
		for i := range n {
			go func() {
				statuses <- e.do(http.MethodPost, "", provideBundle(subject, doc{master: masterFor("at once " + itoa(i))})).status
			}()
		}
		ok := 0
		for range n {
			switch st := <-statuses; st {
			case http.StatusOK:
				ok++
			case http.StatusConflict: // told to retry
			default:
				t.Errorf("status %d", st)
			}
		}
		r := e.do(http.MethodGet, "Patient?identifier="+insProd+"|279035121518989", nil).must(t, http.StatusOK)
		if got := len(entries(r.json)); got != 1 || ok == 0 {
			t.Errorf("%d deposits succeeded, %d patients created; want at least one and exactly one", ok, got)
		}
	})
}
