package rest

import (
	"encoding/json"
	"testing"
)

// TestBundleEncode: a Bundle's JSON holds every field set and none unset,
// in the order of the struct, and carries each resource byte for byte.
func TestBundleEncode(t *testing.T) {
	total := 2
	patient := json.RawMessage(`{"resourceType":"Patient","id":"p1","name":[{"text":"Zoé <Durand> & fils"}]}`)
	outcome := json.RawMessage(`{"resourceType":"OperationOutcome","issue":[]}`)
	for _, tc := range []struct {
		name string
		b    bundle
		want string
	}{
		{"no entries", bundle{ResourceType: "Bundle", ID: "b", Type: "searchset", Total: &total},
			`{"resourceType":"Bundle","id":"b","type":"searchset","total":2}`},
		{"search entries and links", bundle{ResourceType: "Bundle", ID: "b", Meta: &bundleMeta{LastUpdated: "2026-11-26T10:00:00Z"}, Type: "searchset",
			Link: []bundleLink{{Relation: "self", URL: "http://h/fhir/Patient?name=zo%C3%A9&_count=1"}},
			Entry: []entry{
				{FullURL: "http://h/fhir/Patient/p1", Resource: patient, Search: &entrySearch{Mode: "match"}},
				{Resource: outcome, Search: &entrySearch{Mode: "outcome"}},
			}},
			`{"resourceType":"Bundle","id":"b","meta":{"lastUpdated":"2026-11-26T10:00:00Z"},"type":"searchset",` +
				`"link":[{"relation":"self","url":"http://h/fhir/Patient?name=zo%C3%A9&_count=1"}],"entry":[` +
				`{"fullUrl":"http://h/fhir/Patient/p1","resource":` + string(patient) + `,"search":{"mode":"match"}},` +
				`{"resource":` + string(outcome) + `,"search":{"mode":"outcome"}}]}`},
		{"transaction response entries", bundle{ResourceType: "Bundle", ID: "b", Type: "transaction-response",
			Entry: []entry{
				{Response: &entryResponse{Status: "201 Created", Location: "Patient/p1/_history/1", Etag: `W/"1"`}},
				{FullURL: "urn:uuid:1", Response: &entryResponse{Status: "400 Bad Request", Outcome: outcome}},
				{Request: &entryRequest{Method: "GET", URL: "Patient/p1"}},
				{},
			}},
			`{"resourceType":"Bundle","id":"b","type":"transaction-response","entry":[` +
				`{"response":{"status":"201 Created","location":"Patient/p1/_history/1","etag":"W/\"1\""}},` +
				`{"fullUrl":"urn:uuid:1","response":{"status":"400 Bad Request","outcome":` + string(outcome) + `}},` +
				`{"request":{"method":"GET","url":"Patient/p1"}},` +
				`{}]}`},
	} {
		t.Run(tc.name, func(t *testing.T) {
			got := tc.b.encode()
			if string(got) != tc.want {
				t.Errorf("encode:\n got %s\nwant %s", got, tc.want)
			}
			if !json.Valid(got) {
				t.Fatalf("encode wrote invalid JSON: %s", got)
			}
		})
	}
}
