package rest_test

import (
	"net/http"
	"testing"
)

// fhirPathOp is one "operation" parameter of a FHIRPath Patch.
func fhirPathOp(typ, path string, more ...map[string]any) map[string]any {
	parts := []any{
		map[string]any{"name": "type", "valueCode": typ},
		map[string]any{"name": "path", "valueString": path},
	}
	for _, m := range more {
		parts = append(parts, m)
	}
	return map[string]any{"name": "operation", "part": parts}
}

func fhirPathPatch(ops ...map[string]any) map[string]any {
	params := make([]any, len(ops))
	for i, op := range ops {
		params[i] = op
	}
	return map[string]any{"resourceType": "Parameters", "parameter": params}
}

// TestFHIRPathPatch covers the FHIRPath Patch subset, over HTTP PATCH
// (application/fhir+json) and as a transaction entry, as MHD uses it.
func TestFHIRPathPatch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		id := c.create(patient("Path", "1"))
		const ext = "https://example.org/ext"
		r := c.do(http.MethodPatch, "Patient/"+id, fhirPathPatch(
			fhirPathOp("replace", "Patient.gender", map[string]any{"name": "value", "valueCode": "male"}),
			fhirPathOp("add", "Patient", map[string]any{"name": "name", "valueString": "active"}, map[string]any{"name": "value", "valueBoolean": true}),
			fhirPathOp("add", "Patient", map[string]any{"name": "name", "valueString": "extension"}, map[string]any{"name": "value", "part": []any{
				map[string]any{"name": "url", "valueUri": ext},
				map[string]any{"name": "value", "valueBoolean": true},
			}}),
			fhirPathOp("add", "Patient.name[0]", map[string]any{"name": "name", "valueString": "given"}, map[string]any{"name": "value", "valueString": "Second"}),
			fhirPathOp("insert", "Patient.name[0].given", map[string]any{"name": "index", "valueInteger": 0}, map[string]any{"name": "value", "valueString": "Zeroth"}),
			fhirPathOp("delete", "Patient.identifier"),
			fhirPathOp("delete", "Patient.photo"), // absent: nothing to do
			fhirPathOp("replace", "Patient.extension.where(url = '"+ext+"').valueBoolean", map[string]any{"name": "value", "valueBoolean": false}),
		)).must(t, http.StatusOK)
		for path, want := range map[string]any{
			"gender": "male", "active": true, "name.0.given.0": "Zeroth", "name.0.given.1": "Test", "name.0.given.2": "Second",
			"extension.0.url": ext, "extension.0.valueBoolean": false, "identifier": nil,
		} {
			if got := at(r.json, path); got != want {
				t.Errorf("%s = %v, want %v", path, got, want)
			}
		}

		tests := []struct {
			name   string
			patch  map[string]any
			status int
			parts  []string
		}{
			{"replace of nothing", fhirPathPatch(fhirPathOp("replace", "Patient.deceasedBoolean", map[string]any{"name": "value", "valueBoolean": true})), 422, []string{"FHIRPath Patch operation 0", "no element"}},
			{"several selected", fhirPathPatch(fhirPathOp("delete", "Patient.name.given")), 422, []string{"given holds 3 elements"}},
			{"add over a value", fhirPathPatch(fhirPathOp("add", "Patient", map[string]any{"name": "name", "valueString": "gender"}, map[string]any{"name": "value", "valueCode": "male"})), 422, []string{"already set"}},
			{"invalid result", fhirPathPatch(fhirPathOp("replace", "Patient.gender", map[string]any{"name": "value", "valueCode": "dragon"})), 422, []string{"Patient.gender"}},
			{"unknown type", fhirPathPatch(fhirPathOp("frob", "Patient.gender")), 400, []string{"Parameters.parameter[0]", "frob"}},
			{"move", fhirPathPatch(fhirPathOp("move", "Patient.name")), 400, []string{"move"}},
			{"other resource type", fhirPathPatch(fhirPathOp("delete", "Observation.code")), 400, []string{"does not start with Patient"}},
			{"function", fhirPathPatch(fhirPathOp("delete", "Patient.name.first()")), 400, []string{"where"}},
			{"no value", fhirPathPatch(fhirPathOp("replace", "Patient.gender")), 400, []string{`"value"`}},
			{"not Parameters", patient("X", "x"), 400, []string{"Parameters"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				c.do(http.MethodPatch, "Patient/"+id, tc.patch).outcome(t, tc.status, tc.parts...)
			})
		}

		// In a transaction, as ITI-65 marks the replaced document.
		b := tx("transaction", map[string]any{
			"fullUrl":  "urn:uuid:77777777-7777-4777-8777-777777777777",
			"request":  map[string]any{"method": "PATCH", "url": "Patient/" + id},
			"resource": fhirPathPatch(fhirPathOp("replace", "Patient.gender", map[string]any{"name": "value", "valueCode": "other"})),
		})
		res := c.do(http.MethodPost, "", b).must(t, http.StatusOK)
		if got := str(res.json, "entry.0.resource.gender"); got != "other" {
			t.Errorf("patched in a transaction: gender %q\n%s", got, res.body)
		}
	})
}
