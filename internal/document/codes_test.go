package document_test

import (
	"net/http"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/document"
)

// TestCodes checks the codes of a deposit against the national value
// sets: outside a preferred binding, accepted with a warning naming the
// element; outside J08 (required), refused.
func TestCodes(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tests := []struct {
			name    string
			edit    func(dr map[string]any)
			status  int
			message string
		}{
			{"type", func(dr map[string]any) { dr["type"] = coded(loinc, "99999-9") }, 200, "DocumentReference.type: http://loinc.org|99999-9 is not in JDV_J07-XdsTypeCode-CISIS (preferred binding)"},
			{"category", func(dr map[string]any) { dr["category"] = []any{coded("urn:oid:1.2.3", "10")} }, 200, "DocumentReference.category[0]: urn:oid:1.2.3|10 is not in JDV_J06"},
			{"practice setting", func(dr map[string]any) {
				at(dr, "context").(map[string]any)["practiceSetting"] = coded(settingSys, "PLAGE")
			}, 200, "DocumentReference.context.practiceSetting"},
			{"facility type", func(dr map[string]any) {
				at(dr, "context").(map[string]any)["facilityType"] = coded(sectorSystem, "SA99")
			}, 200, "DocumentReference.context.facilityType"},
			{"format", func(dr map[string]any) {
				dr["content"].([]any)[0].(map[string]any)["format"] = map[string]any{"system": "urn:oid:9.9", "code": "x"}
			}, 200, "DocumentReference.content[0].format: urn:oid:9.9|x is not in JDV_J10"},
			{"visibility code", func(dr map[string]any) {
				dr["securityLabel"] = append(dr["securityLabel"].([]any), coded(visSystem, "SECRET"))
			}, 422, "DocumentReference.securityLabel[1].coding[0]: " + visSystem + "|SECRET is not in JDV_J08-XdsConfidentialityCode-CISIS (required binding)"},
			{"two levels", func(dr map[string]any) { dr["securityLabel"] = []any{coded(confSystem, "N"), coded(confSystem, "R")} }, 422, "DocumentReference.securityLabel: 2 confidentiality levels"},
			{"status", func(dr map[string]any) { dr["status"] = "superseded" }, 422, "DocumentReference.status: a deposited document is current"},
			{"no period", func(dr map[string]any) { delete(at(dr, "context").(map[string]any), "period") }, 422, "DocumentReference.context.period.start"},
			{"no type", func(dr map[string]any) { delete(dr, "type") }, 422, "DocumentReference.type: the type of document"},
			{"two contents", func(dr map[string]any) { dr["content"] = append(dr["content"].([]any), dr["content"].([]any)[0]) }, 422, "DocumentReference.content: a deposited DocumentReference has exactly one content"},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				b := provideBundle(testSubject, doc{master: masterFor("codes " + tc.name)})
				tc.edit(resourceOf(b, 1))
				r := e.do(http.MethodPost, "", b)
				if tc.status != 200 {
					r.outcome(t, tc.status, "Bundle.entry[1]: "+tc.message)
					return
				}
				r.must(t, http.StatusOK)
				if w := diagnostics(at(entries(r.json)[1], "response.outcome")); !strings.Contains(w, "warning: Bundle.entry[1]: "+tc.message) {
					t.Errorf("no warning %q in:\n%s", tc.message, w)
				}
			})
		}
	})
}

// TestNoTerminology: without the national value sets, codes are not
// checked against them, but J08, which the platform's rules rest on,
// still is.
func TestNoTerminology(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		b := provideBundle(testSubject, doc{master: masterFor("no terminology")})
		resourceOf(b, 1)["type"] = coded(loinc, "99999-9")
		r := e.do(http.MethodPost, "", b).must(t, http.StatusOK)
		if w := diagnostics(at(entries(r.json)[1], "response.outcome")); strings.Contains(w, "J07") {
			t.Errorf("warned about J07 without terminology: %s", w)
		}
		b = provideBundle(testSubject, doc{master: masterFor("no terminology J08"), labels: []string{"N", "SECRET"}})
		e.do(http.MethodPost, "", b).outcome(t, 422, "SECRET is not in JDV_J08")
	}, func(o *document.Options) { o.Terminology = nil })
}
