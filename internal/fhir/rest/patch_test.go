package rest_test

import (
	"net/http"
	"testing"
)

func TestPatch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		id := c.create(patient("Patch", "1"))
		const jp = "application/json-patch+json"
		patch := func(body string, headers ...string) *response {
			return c.do(http.MethodPatch, "Patient/"+id, body, append([]string{"Content-Type", jp}, headers...)...)
		}
		r := patch(`[
			{"op": "test", "path": "/gender", "value": "female"},
			{"op": "replace", "path": "/gender", "value": "male"},
			{"op": "add", "path": "/name/0/given/0", "value": "First"},
			{"op": "add", "path": "/name/-", "value": {"family": "Alias"}},
			{"op": "copy", "from": "/birthDate", "path": "/deceasedDateTime"},
			{"op": "remove", "path": "/identifier"},
			{"op": "move", "from": "/name/1", "path": "/name/0"}
		]`, "If-Match", `W/"1"`).must(t, http.StatusOK)
		checks := map[string]string{
			"gender": "male", "name.1.given.0": "First", "name.1.given.1": "Test", "name.0.family": "Alias",
			"deceasedDateTime": "1970-01-01", "meta.versionId": "2",
		}
		for path, want := range checks {
			if got := str(r.json, path); got != want {
				t.Errorf("%s = %q, want %q", path, got, want)
			}
		}
		if r.json["identifier"] != nil || r.header.Get("ETag") != `W/"2"` {
			t.Errorf("after patch: %s", r.body)
		}
		// The index follows the patch.
		if got := ids(c.do(http.MethodGet, "Patient?gender=male", nil).json, "match"); len(got) != 1 {
			t.Errorf("Patient?gender=male found %v", got)
		}

		tests := []struct {
			name, body string
			headers    []string
			status     int
			parts      []string
		}{
			{"failed test", `[{"op": "test", "path": "/gender", "value": "female"}]`, nil, 422, []string{"test failed", `"male"`}},
			{"invalid result", `[{"op": "replace", "path": "/birthDate", "value": "yesterday"}]`, nil, 422, []string{"Patient.birthDate"}},
			{"unknown element", `[{"op": "add", "path": "/colour", "value": "blue"}]`, nil, 422, []string{"Patient.colour"}},
			{"change of id", `[{"op": "replace", "path": "/id", "value": "other"}]`, nil, 422, []string{"id"}},
			{"missing path", `[{"op": "remove", "path": "/photo"}]`, nil, 422, []string{`"photo"`}},
			{"past the end", `[{"op": "add", "path": "/name/9", "value": {}}]`, nil, 422, []string{"past the end"}},
			{"unknown op", `[{"op": "frobnicate", "path": "/gender"}]`, nil, 400, []string{"frobnicate"}},
			{"no value", `[{"op": "add", "path": "/gender"}]`, nil, 400, []string{"value"}},
			{"bad pointer", `[{"op": "remove", "path": "gender"}]`, nil, 400, []string{"JSON Pointer"}},
			{"not an array", `{"op": "remove"}`, nil, 400, []string{"array"}},
			{"invalid JSON", `[{"op": }]`, nil, 400, []string{"invalid JSON"}},
			{"stale If-Match", `[{"op": "remove", "path": "/gender"}]`, []string{"If-Match", `W/"1"`}, 412, []string{`W/"2"`}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				patch(tc.body, tc.headers...).outcome(t, tc.status, tc.parts...)
			})
		}
		if v := str(c.do(http.MethodGet, "Patient/"+id, nil).json, "meta.versionId"); v != "2" {
			t.Errorf("a failed patch wrote version %s", v)
		}
		c.do(http.MethodPatch, "Patient/missing", `[]`, "Content-Type", jp).outcome(t, http.StatusNotFound, "Patient/missing")
		c.do(http.MethodPatch, "Patient?identifier=urn:test|none", `[]`, "Content-Type", jp).outcome(t, http.StatusNotFound, "matches no resource")
	})
}
