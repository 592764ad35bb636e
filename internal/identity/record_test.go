package identity_test

import (
	"net/http"
	"strings"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/identity"
	"github.com/carnet-sante/carnet/internal/ins"
)

// recordExt is a record-status extension with the given sub-extensions
// (url, value element, value...).
func recordExt(subs ...string) map[string]any {
	var list []any
	for i := 0; i+2 < len(subs); i += 3 {
		list = append(list, map[string]any{"url": subs[i], subs[i+1]: subs[i+2]})
	}
	return map[string]any{"url": identity.ExtRecordStatus, "extension": list}
}

// TestRecordLifecycle walks one record through its states with PUTs, as
// a client would, checking each transition the platform accepts or
// refuses. The Patient's extension[0] is its birthplace, so the
// record-status extension is extension[1].
func TestRecordLifecycle(t *testing.T) {
	const ext, status = "Patient.extension[1]", "Patient.extension[1].extension[0]"
	steps := []struct {
		name   string
		exts   []map[string]any // record-status extensions to send; nil: none
		code   int
		state  identity.RecordState // state stored after the step
		path   string               // element an error names
		reason string
	}{
		{"created open", nil, http.StatusCreated, identity.RecordOpen, "", ""},
		{"objection", []map[string]any{recordExt("status", "valueCode", "objected")}, http.StatusOK, identity.RecordObjected, "", ""},
		{"closing an objected record", []map[string]any{recordExt("status", "valueCode", "closed", "reason", "valueString", "décès")}, http.StatusUnprocessableEntity, identity.RecordObjected, status, ""},
		{"objection withdrawn", []map[string]any{recordExt("status", "valueCode", "open")}, http.StatusOK, identity.RecordOpen, "", ""},
		{"closing without a reason", []map[string]any{recordExt("status", "valueCode", "closed")}, http.StatusBadRequest, identity.RecordOpen, ext, ""},
		{"closing", []map[string]any{recordExt("status", "valueCode", "closed", "reason", "valueString", "demande du titulaire")}, http.StatusOK, identity.RecordClosed, "", "demande du titulaire"},
		{"update unaware of the record", nil, http.StatusOK, identity.RecordClosed, "", "demande du titulaire"},
		{"objecting to a closed record", []map[string]any{recordExt("status", "valueCode", "objected")}, http.StatusUnprocessableEntity, identity.RecordClosed, status, "demande du titulaire"},
		{"unknown status", []map[string]any{recordExt("status", "valueCode", "paused")}, http.StatusBadRequest, identity.RecordClosed, status, "demande du titulaire"},
		{"status missing", []map[string]any{recordExt("reason", "valueString", "x")}, http.StatusBadRequest, identity.RecordClosed, ext, "demande du titulaire"},
		{"unknown sub-extension", []map[string]any{recordExt("status", "valueCode", "open", "by", "valueString", "x")}, http.StatusBadRequest, identity.RecordClosed, "Patient.extension[1].extension[1]", "demande du titulaire"},
		{"two statuses", []map[string]any{recordExt("status", "valueCode", "open"), recordExt("status", "valueCode", "open")}, http.StatusBadRequest, identity.RecordClosed, "Patient.extension[2]", "demande du titulaire"},
		{"reopening", []map[string]any{recordExt("status", "valueCode", "open")}, http.StatusOK, identity.RecordOpen, "", ""},
	}
	p := person{id: "rec", birthName: "MARTIN", given: "Louise", birthDate: "1950-02-03", sex: ins.SexFemale, birthplace: "75115"}
	forEachEngine(t, defaults, func(t *testing.T, c *client) {
		for _, s := range steps {
			t.Run(s.name, func(t *testing.T) {
				res := p.patient()
				// A change elsewhere, so that each accepted step is a version.
				res["telecom"] = []any{map[string]any{"system": "phone", "value": s.name}}
				exts := res["extension"].([]any)
				for _, e := range s.exts {
					exts = append(exts, e)
				}
				res["extension"] = exts
				r := c.do(http.MethodPut, "Patient/rec", res).must(t, s.code)
				if s.path != "" && findIssue(r.json, "error", s.path) == nil {
					t.Errorf("want an error naming %s; got %s", s.path, r.body)
				}
				got := c.do(http.MethodGet, "Patient/rec", nil).must(t, http.StatusOK)
				state, reason := identity.RecordStatus(got.json)
				if state != s.state || reason != s.reason {
					t.Errorf("stored state %s (%q), want %s (%q)", state, reason, s.state, s.reason)
				}
				if identity.AcceptsDeposits(got.json) != (s.state == identity.RecordOpen) {
					t.Errorf("AcceptsDeposits = %v in state %s", !(s.state == identity.RecordOpen), s.state)
				}
				if s.code == http.StatusOK && s.exts != nil {
					date := recordDate(got.json)
					if _, err := time.Parse(time.RFC3339, date); err != nil {
						t.Errorf("a transition without a date is dated with the write's time; date %q", date)
					}
				}
			})
		}
	})
}

// recordDate returns the date sub-extension of the record status.
func recordDate(patient map[string]any) string {
	exts, _ := patient["extension"].([]any)
	for _, e := range exts {
		if str(e, "url") != identity.ExtRecordStatus {
			continue
		}
		subs, _ := at(e, "extension").([]any)
		for _, s := range subs {
			if str(s, "url") == "date" {
				return str(s, "valueDateTime")
			}
		}
	}
	return ""
}

// TestSetRecordStatus: the pure transition function agrees with the API.
func TestSetRecordStatus(t *testing.T) {
	at := time.Date(2025, 6, 1, 12, 0, 0, 0, time.UTC)
	tests := []struct {
		from, to identity.RecordState
		reason   string
		ok       bool
	}{
		{identity.RecordOpen, identity.RecordObjected, "", true},
		{identity.RecordOpen, identity.RecordClosed, "décès", true},
		{identity.RecordOpen, identity.RecordClosed, "", false},
		{identity.RecordObjected, identity.RecordOpen, "", true},
		{identity.RecordObjected, identity.RecordClosed, "x", false},
		{identity.RecordClosed, identity.RecordOpen, "", true},
		{identity.RecordClosed, identity.RecordObjected, "", false},
		{identity.RecordClosed, identity.RecordClosed, "", true}, // no change
		{identity.RecordOpen, "archived", "", false},
	}
	for _, tt := range tests {
		t.Run(string(tt.from)+"→"+string(tt.to), func(t *testing.T) {
			p := map[string]any{"resourceType": "Patient"}
			if tt.from != identity.RecordOpen {
				p["extension"] = []any{recordExt("status", "valueCode", string(tt.from), "reason", "valueString", "before")}
			}
			err := identity.SetRecordStatus(p, tt.to, tt.reason, at)
			if (err == nil) != tt.ok {
				t.Fatalf("SetRecordStatus: %v, want ok=%v", err, tt.ok)
			}
			if !tt.ok || tt.from == tt.to {
				return
			}
			state, reason := identity.RecordStatus(p)
			if state != tt.to || reason != tt.reason || recordDate(p) != "2025-06-01T12:00:00Z" {
				t.Errorf("after: %s %q %s", state, reason, recordDate(p))
			}
			if n := strings.Count(jsonOf(t, p), identity.ExtRecordStatus); n != 1 {
				t.Errorf("%d record-status extensions, want 1", n)
			}
		})
	}
}
