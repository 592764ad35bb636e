package document_test

import (
	"net/http"
	"net/url"
	"slices"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/document"
	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
)

// jsonPatch sends a JSON Patch to a DocumentReference.
func (e *env) jsonPatch(id, patch string) *response {
	return e.do(http.MethodPatch, "DocumentReference/"+id, patch, "Content-Type", "application/json-patch+json")
}

// TestMetadataUpdate covers the PDSm metadata updates by PATCH:
// visibility, status and archiving change; nothing else does.
func TestMetadataUpdate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		id := e.deposited(t, testSubject, doc{master: masterFor("metadata"), labels: []string{"N"}})[0]
		events := func() []string {
			all, err := e.store.Events(t.Context(), time.Time{}, 1000)
			if err != nil {
				t.Fatal(err)
			}
			var types []string
			for _, ev := range all {
				if ev.Subject == "DocumentReference/"+id {
					types = append(types, ev.Type)
				}
			}
			return types
		}

		// Visibility: hidden from professionals, then from the patient.
		e.jsonPatch(id, `[{"op": "add", "path": "/securityLabel/-", "value": {"coding": [{"system": "`+visSystem+`", "code": "MASQUE_PS"}]}}]`).must(t, http.StatusOK)
		e.jsonPatch(id, `[{"op": "add", "path": "/securityLabel/-", "value": {"coding": [{"system": "`+visSystem+`", "code": "INVISIBLE_PATIENT"}]}}]`).must(t, http.StatusOK)
		if found := e.search(t, "DocumentReference", url.Values{"security-label": {"MASQUE_PS"}}); !slices.Equal(found, []string{id}) {
			t.Errorf("security-label=MASQUE_PS found %v", found)
		}
		e.jsonPatch(id, `[{"op": "remove", "path": "/securityLabel/1"}]`).must(t, http.StatusOK)
		if found := e.search(t, "DocumentReference", url.Values{"security-label": {"MASQUE_PS"}}); len(found) != 0 {
			t.Errorf("unmasked, security-label=MASQUE_PS still finds %v", found)
		}

		// Archiving, found under each name of the parameter.
		e.jsonPatch(id, `[{"op": "add", "path": "/extension", "value": [{"url": "`+searchparam.ExtIsArchived+`", "valueBoolean": true}]}]`).must(t, http.StatusOK)
		for _, param := range []string{"isArchived", "PDSm_isArchived", "pdsm-ext-is-archived"} {
			if found := e.search(t, "DocumentReference", url.Values{param: {"true"}}); !slices.Equal(found, []string{id}) {
				t.Errorf("%s=true found %v", param, found)
			}
		}

		tests := []struct {
			name, patch string
			parts       []string
		}{
			{"description", `[{"op": "add", "path": "/description", "value": "autre"}]`, []string{"DocumentReference.description", "cannot change", "deposit a replacement"}},
			{"type", `[{"op": "replace", "path": "/type/coding/0/code", "value": "34133-9"}]`, []string{"DocumentReference.type"}},
			{"content", `[{"op": "replace", "path": "/content/0/attachment/title", "value": "x"}]`, []string{"DocumentReference.content"}},
			{"confidentiality level", `[{"op": "replace", "path": "/securityLabel/0/coding/0/code", "value": "V"}]`, []string{"confidentiality level (N) cannot change"}},
			{"unknown label", `[{"op": "add", "path": "/securityLabel/-", "value": {"coding": [{"system": "` + visSystem + `", "code": "SECRET"}]}}]`, []string{"securityLabel[2].coding[0]", "not in JDV_J08"}},
			{"archive flag type", `[{"op": "replace", "path": "/extension/0/valueBoolean", "value": "yes"}]`, []string{"valueBoolean"}},
			{"other extension", `[{"op": "add", "path": "/extension/-", "value": {"url": "https://example.org/x", "valueString": "x"}}]`, []string{"only the archiving extension"}},
			{"status back", `[{"op": "replace", "path": "/status", "value": "current"}]`, nil},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := e.jsonPatch(id, tc.patch)
				if tc.name == "status back" {
					r.must(t, http.StatusOK) // current to current: no change
					return
				}
				r.outcome(t, http.StatusUnprocessableEntity, tc.parts...)
			})
		}

		// Withdrawal (logical deletion), for good.
		e.jsonPatch(id, `[{"op": "replace", "path": "/status", "value": "entered-in-error"}]`).must(t, http.StatusOK)
		e.jsonPatch(id, `[{"op": "replace", "path": "/status", "value": "current"}]`).outcome(t, 422, "cannot go from entered-in-error to current")
		if found := e.search(t, "DocumentReference", url.Values{"status": {"entered-in-error"}}); !slices.Equal(found, []string{id}) {
			t.Errorf("status=entered-in-error found %v", found)
		}
		// A document is withdrawn, not deleted.
		e.do(http.MethodDelete, "DocumentReference/"+id, nil).outcome(t, http.StatusMethodNotAllowed, "status entered-in-error")
		binary := str(e.do(http.MethodGet, "DocumentReference/"+id, nil).json, "content.0.attachment.url")
		e.do(http.MethodDelete, binary, nil).outcome(t, http.StatusMethodNotAllowed, "is not deleted")
		e.do(http.MethodGet, binary, nil).must(t, http.StatusOK)
		// PUT is a metadata update too, and cannot create a document.
		e.do(http.MethodPut, "DocumentReference/new-one", doc{master: masterFor("put"), subject: "Patient/x"}.documentReference("Binary/x")).outcome(t, 422)

		want := []string{document.EventDeposited, document.EventUpdated, document.EventUpdated, document.EventUpdated, document.EventUpdated, document.EventUpdated}
		if got := events(); !slices.Equal(got, want) {
			t.Errorf("outbox events of the document: %v, want %v", got, want)
		}
	})
}
