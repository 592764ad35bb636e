package document_test

import (
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
)

// supersede is the FHIRPath Patch entry of an ITI-65 replacement
// (MHD UpdateDocumentRefs): the old document becomes superseded.
func supersede(id string) map[string]any {
	return entry("urn:uuid:77777777-7777-4777-8777-777777777777", "PATCH", "DocumentReference/"+id, map[string]any{
		"resourceType": "Parameters",
		"parameter": []any{map[string]any{"name": "operation", "part": []any{
			map[string]any{"name": "type", "valueCode": "replace"},
			map[string]any{"name": "path", "valueString": "DocumentReference.status"},
			map[string]any{"name": "value", "valueCode": "superseded"},
		}}},
	})
}

// TestReplacement replaces a document: in one transaction the new one is
// current and the old one superseded; a replacement that fails changes
// neither.
func TestReplacement(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		old := e.deposited(t, testSubject, doc{master: masterFor("v1")})[0]
		status := func(id string) string {
			return str(e.do(http.MethodGet, "DocumentReference/"+id, nil).must(t, http.StatusOK).json, "status")
		}

		// A replacement whose new document is refused leaves the old
		// one current: the PATCH entry is not applied alone.
		bad := provideBundle(testSubject, doc{master: masterFor("v2 bad"), replaces: old})
		attachment(resourceOf(bad, 1))["hash"] = sha1b64([]byte("not it"))
		bad["entry"] = append(bad["entry"].([]any), supersede(old))
		e.do(http.MethodPost, "", bad).outcome(t, http.StatusUnprocessableEntity, "attachment.hash")
		if st := status(old); st != "current" {
			t.Fatalf("after a failed replacement the old document is %s", st)
		}

		b := provideBundle(testSubject, doc{master: masterFor("v2"), replaces: old})
		b["entry"] = append(b["entry"].([]any), supersede(old))
		r := e.do(http.MethodPost, "", b).must(t, http.StatusOK)
		es := entries(r.json)
		if got := str(es[3], "response.status"); got != "200 OK" || str(es[3], "resource.status") != "superseded" {
			t.Errorf("PATCH entry: %v", es[3]["response"])
		}
		replacement := str(es[1], "resource.id")
		if status(old) != "superseded" || status(replacement) != "current" {
			t.Errorf("old %s, new %s; want superseded and current", status(old), status(replacement))
		}
		if found := e.search(t, "DocumentReference", url.Values{"relatesto": {"DocumentReference/" + old}}); !slices.Equal(found, []string{replacement}) {
			t.Errorf("relatesto=DocumentReference/%s found %v", old, found)
		}
		if found := e.search(t, "DocumentReference", url.Values{"status": {"superseded"}}); !slices.Equal(found, []string{old}) {
			t.Errorf("status=superseded found %v", found)
		}

		// Without the PATCH entry, the old document is superseded all
		// the same, with a warning.
		third := e.do(http.MethodPost, "", provideBundle(testSubject, doc{master: masterFor("v3"), replaces: replacement})).must(t, http.StatusOK)
		if !strings.Contains(diagnostics(at(entries(third.json)[1], "response.outcome")), "it was marked superseded") || status(replacement) != "superseded" {
			t.Errorf("replacement without PATCH entry: %s", third.body)
		}

		// What cannot be replaced.
		other := e.deposited(t, "Patient?identifier="+insTest+"|180017505600103", doc{master: masterFor("other patient's")})[0]
		for _, tc := range []struct {
			target string
			parts  []string
		}{
			{old, []string{"relatesTo[0].target", "is superseded: only a current document can be replaced"}},
			{"missing", []string{"DocumentReference/missing, the document to replace, is not known"}},
			{other, []string{"another patient's document"}},
		} {
			e.do(http.MethodPost, "", provideBundle(testSubject, doc{master: masterFor("v4 " + tc.target), replaces: tc.target})).outcome(t, http.StatusUnprocessableEntity, tc.parts...)
		}
	})
}
