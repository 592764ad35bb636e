package rest_test

import (
	"context"
	"net/http"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/store/sqlite"
)

// TestBadInput sends what clients get wrong: each must be answered with an
// OperationOutcome of the right status naming what is wrong, never a 500.
func TestBadInput(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		id := c.create(patient("Bad", "1"))
		tests := []struct {
			name          string
			method, path  string
			body          any
			headers       []string
			status        int
			diagnosticsIn []string
		}{
			{"invalid JSON", "POST", "Patient", "{\n  \"resourceType\": \"Patient\",\n  \"gender\": male\n}", nil, 400, []string{"invalid JSON", "line 3"}},
			{"truncated JSON", "POST", "Patient", `{"resourceType": "Patient"`, nil, 400, []string{"ends before"}},
			{"trailing data", "POST", "Patient", `{"resourceType": "Patient"} {}`, nil, 400, []string{"after the resource"}},
			{"empty body", "POST", "Patient", "", nil, 400, []string{"empty"}},
			{"not an object", "POST", "Patient", `[1]`, nil, 400, []string{"JSON object"}},
			{"wrong type", "POST", "Patient", observation("Patient/1", "1"), nil, 400, []string{"Observation", "Patient"}},
			{"unknown element", "POST", "Patient", map[string]any{"resourceType": "Patient", "colour": "blue"}, nil, 400, []string{"Patient.colour"}},
			{"bad date in resource", "POST", "Patient", map[string]any{"resourceType": "Patient", "birthDate": "1970-02-30"}, nil, 400, []string{"Patient.birthDate"}},
			{"wrong JSON type", "POST", "Patient", map[string]any{"resourceType": "Patient", "active": "yes"}, nil, 400, []string{"Patient.active"}},
			{"id differs", "PUT", "Patient/" + id, map[string]any{"resourceType": "Patient", "id": "other"}, nil, 400, []string{`"other"`, id}},
			{"id missing", "PUT", "Patient/" + id, map[string]any{"resourceType": "Patient"}, nil, 400, []string{"id"}},
			{"invalid id", "GET", "Patient/a_b", nil, nil, 400, []string{"invalid id"}},
			{"unknown type", "GET", "Animal/1", nil, nil, 404, []string{"Animal"}},
			{"unknown type search", "GET", "Animal?name=x", nil, nil, 404, []string{"Animal"}},
			{"unknown path", "GET", "Patient/1/foo", nil, nil, 404, []string{"Patient/1/foo"}},
			{"method", "DELETE", "metadata", nil, nil, 405, []string{"DELETE"}},
			{"put without id", "PUT", "Patient", patient("A", "1"), nil, 400, []string{"needs an id"}},
			{"xml body", "POST", "Patient", "<Patient/>", []string{"Content-Type", "application/fhir+xml"}, 415, []string{"application/fhir+xml"}},
			{"xml wanted", "GET", "Patient/" + id + "?_format=xml", nil, nil, 406, []string{"_format"}},
			{"xml accepted", "GET", "Patient/" + id, nil, []string{"Accept", "application/fhir+xml"}, 406, []string{"JSON"}},
			{"bad If-Match", "PUT", "Patient/" + id, map[string]any{"resourceType": "Patient", "id": id}, []string{"If-Match", "abc"}, 400, []string{"If-Match"}},
			{"bad version", "GET", "Patient/" + id + "/_history/x", nil, nil, 400, []string{"version"}},
			{"bad search date", "GET", "Patient?birthdate=1970-13-01", nil, nil, 400, []string{"birthdate", "invalid date"}},
			{"bad modifier", "GET", "Patient?name:below=x", nil, nil, 400, []string{"name:below"}},
			{"bad _count", "GET", "Patient?_count=many", nil, nil, 400, []string{"_count"}},
			{"bad _sort", "GET", "Patient?_sort=colour", nil, nil, 400, []string{"_sort", "colour"}},
			{"strict unknown param", "GET", "Patient?colour=blue", nil, []string{"Prefer", "handling=strict"}, 400, []string{"colour"}},
			{"tampered cursor", "GET", "Patient?_cursor=eyJpIjoieCJ9", nil, nil, 400, []string{"_cursor"}},
			{"garbage cursor", "GET", "Patient?_cursor=%%%", nil, nil, 400, []string{"malformed"}},
			{"bad _since", "GET", "Patient/_history?_since=yesterday", nil, nil, 400, []string{"_since"}},
			{"everything of nobody", "GET", "Patient/nobody/$everything", nil, nil, 404, []string{"Patient/nobody"}},
			{"read with _summary=count", "GET", "Patient/" + id + "?_summary=count", nil, nil, 400, []string{"_summary=count"}},
			{"bundle of wrong type", "POST", "", map[string]any{"resourceType": "Bundle", "type": "collection"}, nil, 400, []string{"collection"}},
			{"not a bundle", "POST", "", patient("A", "1"), nil, 400, []string{"Bundle"}},
			{"invalid transaction", "POST", "", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
				map[string]any{"resource": map[string]any{"resourceType": "Patient", "birthDate": "x"}, "request": map[string]any{"method": "POST", "url": "Patient"}},
			}}, nil, 400, []string{"Bundle.entry[0].resource.birthDate"}},
			{"transaction entry without request", "POST", "", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
				map[string]any{"resource": patient("A", "1")},
			}}, nil, 400, []string{"Bundle.entry[0].request"}},
			{"transaction entry with bad url", "POST", "", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
				map[string]any{"resource": patient("A", "1"), "request": map[string]any{"method": "POST", "url": "Animal"}},
			}}, nil, 404, []string{"Bundle.entry[0]", "Animal"}},
			{"NUL in resource", "POST", "Patient", `{"resourceType":"Patient","name":[{"family":"a\u0000b"}]}`, nil, 400, []string{"Patient.name[0].family", "NUL"}},
			{"NUL in search", "GET", "Patient?name=a%00b", nil, nil, 400, []string{"name", "NUL"}},
			{"invalid UTF-8 in search", "GET", "Patient?_id=a%FFb", nil, nil, 400, []string{"_id", "UTF-8"}},
			{"number out of range", "GET", "RiskAssessment?probability=1e400", nil, nil, 400, []string{"probability", "out of range"}},
			{"system history", "GET", "_history", nil, nil, 404, []string{"all resource types"}},
			{"duplicate fullUrl", "POST", "", map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
				map[string]any{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001", "resource": patient("A", "1"), "request": map[string]any{"method": "POST", "url": "Patient"}},
				map[string]any{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001", "resource": patient("B", "1"), "request": map[string]any{"method": "POST", "url": "Patient"}},
			}}, nil, 400, []string{"same fullUrl"}},
			{"patch content type", "PATCH", "Patient/" + id, `[]`, []string{"Content-Type", "application/xml"}, 415, []string{"json-patch", "fhir+json"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				r := c.do(tc.method, tc.path, tc.body, tc.headers...)
				r.outcome(t, tc.status, tc.diagnosticsIn...)
			})
		}
	})
}

func TestOversizedBody(t *testing.T) {
	s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "carnet.db"))
	if err != nil {
		t.Fatal(err)
	}
	c := newClient(t, s, rest.Options{MaxBody: 1000})
	big := patient("A", "1")
	big["name"] = []any{map[string]any{"family": strings.Repeat("x", 2000)}}
	c.do(http.MethodPost, "Patient", big).outcome(t, http.StatusRequestEntityTooLarge, "1000 bytes")
	// Without Content-Length, the limit holds while reading.
	req, _ := http.NewRequest(http.MethodPost, c.srv.URL+"/fhir/Patient", strings.NewReader(strings.Repeat(" ", 2000)+"{}"))
	req.ContentLength = -1
	c.send(req).outcome(t, http.StatusRequestEntityTooLarge, "1000 bytes")
}
