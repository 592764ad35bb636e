package rest_test

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"net/http"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/store"
)

// observationRule is the rule under test, on Observation: it tags each
// write with what it saw (interaction, and whether there was a previous
// version), warns, refuses a cancelled Observation naming its status,
// and for the code "linked" writes a Basic beside it.
var observationRule = rest.RuleFunc(func(ctx context.Context, tx store.ResourceTx, w *rest.WriteRequest) ([]rest.Issue, error) {
	if w.Resource["status"] == "cancelled" {
		return nil, &rest.Error{Status: http.StatusUnprocessableEntity, Issues: []rest.Issue{{Severity: "error", Code: "business-rule",
			Diagnostics: "Observation.status: cancelled observations are refused", Expression: []string{"Observation.status"}}}}
	}
	seen := string(w.Interaction) + "-new"
	if w.Previous != nil {
		seen = string(w.Interaction) + "-prev"
	}
	w.Resource["meta"].(map[string]any)["tag"] = []any{map[string]any{"system": "urn:test:seen", "code": seen}}
	if str(w.Resource, "code.coding.0.code") == "linked" {
		basic := map[string]any{"resourceType": "Basic", "code": map[string]any{"text": "beside " + w.ID}}
		if err := w.Put(ctx, "Basic", "beside-"+w.ID, basic); err != nil {
			return nil, err
		}
	}
	return []rest.Issue{{Severity: "warning", Code: "informational", Diagnostics: "checked " + w.Type, Expression: []string{"Observation"}}}, nil
})

// seen returns the tag the rule left on a resource.
func seen(res any) string { return str(res, "meta.tag.0.code") }

// mentions reports whether an OperationOutcome has an issue whose
// diagnostics contain s.
func mentions(outcome any, s string) bool {
	issues, _ := at(outcome, "issue").([]any)
	for _, is := range issues {
		if strings.Contains(str(is, "diagnostics"), s) {
			return true
		}
	}
	return false
}

func TestRules(t *testing.T) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			c := newClient(t, e.Open(t), rest.Options{Rules: map[string][]rest.Rule{"Observation": {observationRule}}})

			// A single create answers its warning, as an OperationOutcome
			// by default, and stores what the rule changed.
			r := c.do(http.MethodPost, "Observation", observation("Patient/p", "a")).must(t, http.StatusCreated)
			if str(r.json, "resourceType") != "OperationOutcome" || !mentions(r.json, "checked Observation") || !mentions(r.json, "created Observation/") {
				t.Errorf("create: body %s, want an OperationOutcome with the warning", r.body)
			}
			loc := r.header.Get("Location")
			id := strings.Split(strings.TrimPrefix(loc, c.base+"/Observation/"), "/")[0]
			if got := c.do(http.MethodGet, "Observation/"+id, nil).must(t, http.StatusOK); seen(got.json) != "create-new" {
				t.Errorf("stored tag %q, want create-new (Location %q)", seen(got.json), loc)
			}
			// Prefer: return=representation gets the resource instead.
			r = c.do(http.MethodPost, "Observation", observation("Patient/p", "b"), "Prefer", "return=representation").must(t, http.StatusCreated)
			if str(r.json, "resourceType") != "Observation" || seen(r.json) != "create-new" {
				t.Errorf("create with return=representation: %s", r.body)
			}

			// Update, update as create, patch, conditional create.
			o := observation("Patient/p", "a")
			o["id"] = id
			o["status"] = "amended"
			r = c.do(http.MethodPut, "Observation/"+id, o, "Prefer", "return=representation").must(t, http.StatusOK)
			if seen(r.json) != "update-prev" {
				t.Errorf("update: tag %q, want update-prev", seen(r.json))
			}
			o["id"] = "put-new"
			r = c.do(http.MethodPut, "Observation/put-new", o, "Prefer", "return=representation").must(t, http.StatusCreated)
			if seen(r.json) != "update-new" {
				t.Errorf("update as create: tag %q, want update-new", seen(r.json))
			}
			r = c.do(http.MethodPatch, "Observation/"+id, `[{"op":"replace","path":"/status","value":"corrected"}]`,
				"Content-Type", "application/json-patch+json", "Prefer", "return=representation").must(t, http.StatusOK)
			if seen(r.json) != "patch-prev" {
				t.Errorf("patch: tag %q, want patch-prev", seen(r.json))
			}
			cond := observation("Patient/p", "cond")
			cond["identifier"] = []any{map[string]any{"system": "urn:test", "value": "cond"}}
			r = c.do(http.MethodPost, "Observation", cond, "If-None-Exist", "identifier=urn:test|cond").must(t, http.StatusCreated)
			if !mentions(r.json, "checked Observation") {
				t.Errorf("conditional create: %s", r.body)
			}
			r = c.do(http.MethodPost, "Observation", cond, "If-None-Exist", "identifier=urn:test|cond").must(t, http.StatusOK)
			if str(r.json, "resourceType") != "Observation" {
				t.Errorf("conditional create matching: the existing resource, not a warning, is expected: %s", r.body)
			}

			// A refusal names the element and stores nothing.
			bad := observation("Patient/p", "a")
			bad["status"] = "cancelled"
			r = c.do(http.MethodPost, "Observation", bad)
			r.outcome(t, http.StatusUnprocessableEntity, "Observation.status")
			if got := str(r.json, "issue.0.expression.0"); got != "Observation.status" {
				t.Errorf("expression %q, want Observation.status", got)
			}

			// A batch: the warning in the entry's outcome, the refusal in
			// its own entry only; a PATCH entry goes through the rule too.
			patch := map[string]any{"resourceType": "Binary", "contentType": "application/json-patch+json",
				"data": base64.StdEncoding.EncodeToString([]byte(`[{"op":"replace","path":"/status","value":"final"}]`))}
			r = c.do(http.MethodPost, "", tx("batch", post("", observation("Patient/p", "c")), post("", bad),
				request("PATCH", "Observation/"+id, patch))).must(t, http.StatusOK)
			es := entries(r.json)
			if str(es[0], "response.status") != "201 Created" || !mentions(at(es[0], "response.outcome"), "checked Observation") || seen(es[0]["resource"]) != "create-new" {
				t.Errorf("batch entry 0: %v", es[0])
			}
			if str(es[1], "response.status") != "422 Unprocessable Entity" || !mentions(at(es[1], "response.outcome"), "Observation.status") {
				t.Errorf("batch entry 1: %v", es[1])
			}
			if str(es[2], "response.status") != "200 OK" || seen(es[2]["resource"]) != "patch-prev" {
				t.Errorf("batch entry 2: %v", es[2])
			}

			// A transaction: the rule's own write commits with it, or is
			// rolled back with it.
			linked := observation("Patient/p", "linked")
			linked["id"] = "linked-1"
			r = c.do(http.MethodPost, "", tx("transaction", request("PUT", "Observation/linked-1", linked),
				request("PUT", "Observation?identifier=urn:test|cond", cond))).must(t, http.StatusOK)
			es = entries(r.json)
			if !mentions(at(es[0], "response.outcome"), "checked Observation") || seen(es[1]["resource"]) != "update-prev" {
				t.Errorf("transaction: %s", r.body)
			}
			if got := c.do(http.MethodGet, "Basic/beside-linked-1", nil).must(t, http.StatusOK); str(got.json, "code.text") != "beside linked-1" {
				t.Errorf("the rule's Basic: %s", got.body)
			}
			linked["id"] = "linked-2"
			r = c.do(http.MethodPost, "", tx("transaction", request("PUT", "Observation/linked-2", linked), post("", bad)))
			r.outcome(t, http.StatusUnprocessableEntity, "Bundle.entry[1]", "Observation.status")
			c.do(http.MethodGet, "Basic/beside-linked-2", nil).must(t, http.StatusNotFound)
		})
	}
}

// TestUnchangedUpdate: an update whose content equals the current
// version's (meta.versionId and lastUpdated aside) writes no version.
func TestUnchangedUpdate(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		p := patient("Same", "s")
		p["id"] = "same"
		r := c.do(http.MethodPut, "Patient/same", p).must(t, http.StatusCreated)
		first := r.header.Get("ETag")

		p["meta"] = map[string]any{"versionId": "9", "lastUpdated": "2001-01-01T00:00:00Z"}
		r = c.do(http.MethodPut, "Patient/same", p, "Prefer", "return=OperationOutcome").must(t, http.StatusOK)
		if r.header.Get("ETag") != first || !mentions(r.json, "unchanged Patient/same/_history/1") {
			t.Errorf("identical update: ETag %s (want %s), body %s", r.header.Get("ETag"), first, r.body)
		}
		r = c.do(http.MethodPatch, "Patient/same", `[{"op":"replace","path":"/gender","value":"female"}]`,
			"Content-Type", "application/json-patch+json").must(t, http.StatusOK)
		if r.header.Get("ETag") != first {
			t.Errorf("patch changing nothing: ETag %s, want %s", r.header.Get("ETag"), first)
		}
		b := tx("transaction", request("PUT", "Patient/same", p))
		r = c.do(http.MethodPost, "", b).must(t, http.StatusOK)
		if got := str(entries(r.json)[0], "response.etag"); got != first {
			t.Errorf("identical update in a transaction: etag %s, want %s", got, first)
		}
		h := c.do(http.MethodGet, "Patient/same/_history", nil).must(t, http.StatusOK)
		if n := len(entries(h.json)); n != 1 {
			t.Errorf("history has %d versions after identical updates, want 1", n)
		}

		// A real change, even of how a number is written, is a version.
		o := observation("Patient/same", "n")
		o["id"] = "n"
		o["valueQuantity"] = map[string]any{"value": 1}
		c.do(http.MethodPut, "Observation/n", o).must(t, http.StatusCreated)
		r = c.do(http.MethodPut, "Observation/n", strings.Replace(jsonText(t, o), `"value":1`, `"value":1.0`, 1)).must(t, http.StatusOK)
		if r.header.Get("ETag") != `W/"2"` {
			t.Errorf("1 then 1.0: ETag %s, want W/\"2\"", r.header.Get("ETag"))
		}
	})
}

// jsonText encodes v.
func jsonText(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}
