package rest_test

import (
	"encoding/base64"
	"net/http"
	"strings"
	"testing"
)

// tx builds a transaction (or batch) Bundle from entries.
func tx(typ string, entries ...map[string]any) map[string]any {
	list := make([]any, len(entries))
	for i, e := range entries {
		list[i] = e
	}
	return map[string]any{"resourceType": "Bundle", "type": typ, "entry": list}
}

// post is a POST entry; fullURL may be empty.
func post(fullURL string, res map[string]any) map[string]any {
	e := map[string]any{"resource": res, "request": map[string]any{"method": "POST", "url": res["resourceType"]}}
	if fullURL != "" {
		e["fullUrl"] = fullURL
	}
	return e
}

func request(method, url string, res map[string]any) map[string]any {
	e := map[string]any{"request": map[string]any{"method": method, "url": url}}
	if res != nil {
		e["resource"] = res
	}
	return e
}

func TestTransaction(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		doomed := c.create(patient("Doomed", "d"))
		const pat, enc = "urn:uuid:2a3b0c1e-0000-4000-8000-000000000001", "urn:uuid:2a3b0c1e-0000-4000-8000-000000000002"
		obs := observation(pat, "1234-5")
		obs["encounter"] = map[string]any{"reference": enc}
		obs["extension"] = []any{map[string]any{"url": "http://example.org/ext", "valueReference": map[string]any{"reference": pat}}}
		obs["contained"] = []any{map[string]any{"resourceType": "Provenance", "id": "prov",
			"target": []any{map[string]any{"reference": pat}}, "recorded": "2024-01-01T00:00:00Z",
			"agent": []any{map[string]any{"who": map[string]any{"reference": pat}}}}}
		obs["text"] = map[string]any{"status": "generated", "div": `<div xmlns="http://www.w3.org/1999/xhtml"><a href="` + pat + `">patient</a></div>`}
		encounter := map[string]any{"resourceType": "Encounter", "status": "finished",
			"class":   map[string]any{"system": "http://terminology.hl7.org/CodeSystem/v3-ActCode", "code": "AMB"},
			"subject": map[string]any{"reference": pat}}
		put := patient("Put", "p")
		put["id"] = "put-1"

		b := tx("transaction",
			post("", obs), // refers to entries that come later
			request("GET", "Patient?identifier=urn:test|x", nil),
			post(enc, encounter),
			request("PUT", "Patient/put-1", put),
			request("DELETE", "Patient/"+doomed, nil),
			post(pat, patient("Uuid", "x")),
		)
		r := c.do(http.MethodPost, "", b).must(t, http.StatusOK)
		if str(r.json, "type") != "transaction-response" {
			t.Fatalf("type %s", str(r.json, "type"))
		}
		es := entries(r.json)
		want := []string{"201 Created", "200 OK", "201 Created", "201 Created", "204 No Content", "201 Created"}
		for i, w := range want {
			if got := str(es[i], "response.status"); got != w {
				t.Errorf("entry %d: status %q, want %q", i, got, w)
			}
		}
		patID := str(es[5], "resource.id")
		if loc := str(es[5], "response.location"); loc != "Patient/"+patID+"/_history/1" || str(es[5], "response.etag") != `W/"1"` || str(es[5], "response.lastModified") == "" {
			t.Errorf("entry 5 response: %v", es[5]["response"])
		}
		// GET ran after the POSTs: it sees the new Patient.
		if found, _ := es[1]["resource"].(map[string]any); len(entries(found)) != 1 {
			t.Errorf("the GET entry did not see the Patient created by the transaction: %v", es[1]["resource"])
		}

		o := c.do(http.MethodGet, "Observation/"+str(es[0], "resource.id"), nil).must(t, http.StatusOK).json
		ref := "Patient/" + patID
		for _, path := range []string{"subject.reference", "extension.0.valueReference.reference", "contained.0.target.0.reference", "contained.0.agent.0.who.reference"} {
			if got := str(o, path); got != ref {
				t.Errorf("%s = %q, want %q", path, got, ref)
			}
		}
		if got := str(o, "encounter.reference"); got != "Encounter/"+str(es[2], "resource.id") {
			t.Errorf("encounter.reference = %q", got)
		}
		if div := str(o, "text.div"); !strings.Contains(div, `href="`+ref+`"`) {
			t.Errorf("narrative link not rewritten: %s", div)
		}
		// The rewritten references are indexed: the compartment holds them.
		r = c.do(http.MethodGet, "Observation?patient="+patID, nil).must(t, http.StatusOK)
		if n := len(ids(r.json, "match")); n != 1 {
			t.Errorf("Observation?patient= found %d", n)
		}
		c.do(http.MethodGet, "Patient/"+doomed, nil).must(t, http.StatusGone)
	})
}

// TestTransactionRollback checks that a transaction with one failing
// entry writes nothing, and says which entry failed.
func TestTransactionRollback(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		existing := c.create(patient("Existing", "e"))
		twin1, twin2 := patient("Twin", "t"), patient("Twin", "t")
		c.create(twin1)
		c.create(twin2)
		good := post("urn:uuid:00000000-0000-4000-8000-000000000001", patient("Good", "g"))
		stale := patient("Existing", "e")
		stale["id"] = existing
		ifMatch := request("PUT", "Patient/"+existing, stale)
		ifMatch["request"].(map[string]any)["ifMatch"] = `W/"7"`
		tests := []struct {
			name   string
			bad    map[string]any
			status int
			parts  []string
		}{
			{"If-Match", ifMatch, 412, []string{"Bundle.entry[1]", `W/"7"`}},
			{"conditional reference without match", post("", observation("Patient?identifier=urn:test|none", "1")), 400, []string{"Bundle.entry[1]", "matches no resource", "Observation.subject.reference"}},
			{"conditional reference with several matches", post("", observation("Patient?identifier=urn:test|t", "1")), 412, []string{"Bundle.entry[1]", "several"}},
			{"unresolved urn:uuid", post("", observation("urn:uuid:00000000-0000-4000-8000-00000000ffff", "1")), 400, []string{"not the fullUrl"}},
			{"conditional create with several matches", func() map[string]any {
				e := post("", patient("Twin", "t"))
				e["request"].(map[string]any)["ifNoneExist"] = "identifier=urn:test|t"
				return e
			}(), 412, []string{"Bundle.entry[1]", "several"}},
			{"read of a missing resource", request("GET", "Patient/missing", nil), 404, []string{"Bundle.entry[1]", "Patient/missing"}},
			{"invalid patch", map[string]any{"request": map[string]any{"method": "PATCH", "url": "Patient/" + existing}, "resource": map[string]any{
				"resourceType": "Binary", "contentType": "application/json-patch+json",
				"data": base64.StdEncoding.EncodeToString([]byte(`[{"op":"replace","path":"/birthDate","value":"never"}]`)),
			}}, 422, []string{"Bundle.entry[1]", "birthDate"}},
			{"same resource twice", request("DELETE", "Patient/"+existing, nil), 400, []string{"once"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				entries := []map[string]any{good, tc.bad}
				if tc.name == "same resource twice" {
					entries = append(entries, request("DELETE", "Patient/"+existing, nil))
				}
				c.do(http.MethodPost, "", tx("transaction", entries...)).outcome(t, tc.status, tc.parts...)
				r := c.do(http.MethodGet, "Patient?family=Good&_total=accurate", nil).must(t, http.StatusOK)
				if at(r.json, "total") != float64(0) {
					t.Errorf("the failed transaction wrote: total %v", at(r.json, "total"))
				}
				if v := str(c.do(http.MethodGet, "Patient/"+existing, nil).json, "meta.versionId"); v != "1" {
					t.Errorf("the failed transaction changed Patient/%s: version %s", existing, v)
				}
			})
		}
	})
}

func TestTransactionConditionals(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		known := c.create(patient("Known", "k"))
		create := post("urn:uuid:00000000-0000-4000-8000-00000000000a", patient("Known", "k"))
		create["request"].(map[string]any)["ifNoneExist"] = "identifier=urn:test|k"
		b := tx("transaction",
			create,
			post("", observation("urn:uuid:00000000-0000-4000-8000-00000000000a", "a")), // via the matched create
			post("", observation("Patient?identifier=urn:test|k", "b")),                 // conditional reference
			request("PUT", "Patient?identifier=urn:test|new", patient("New", "new")),    // conditional update as create
		)
		r := c.do(http.MethodPost, "", b).must(t, http.StatusOK)
		es := entries(r.json)
		if str(es[0], "response.status") != "200 OK" || str(es[0], "resource.id") != known {
			t.Errorf("conditional create did not return the match: %v", es[0])
		}
		for _, i := range []int{1, 2} {
			if got := str(es[i], "resource.subject.reference"); got != "Patient/"+known {
				t.Errorf("entry %d subject %q, want Patient/%s", i, got, known)
			}
		}
		if str(es[3], "response.status") != "201 Created" {
			t.Errorf("conditional update: %v", es[3]["response"])
		}
	})
}

func TestBatch(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		b := tx("batch",
			post("", patient("Batch", "1")),
			post("", map[string]any{"resourceType": "Patient", "birthDate": "not a date"}),
			request("GET", "Patient/missing", nil),
			request("GET", "Patient?family=Batch", nil),
			request("DELETE", "Patient/missing", nil),
		)
		r := c.do(http.MethodPost, "", b, "Prefer", "return=minimal").must(t, http.StatusOK)
		if str(r.json, "type") != "batch-response" {
			t.Fatalf("type %s", str(r.json, "type"))
		}
		es := entries(r.json)
		want := []string{"201 Created", "400 Bad Request", "404 Not Found", "200 OK", "204 No Content"}
		for i, w := range want {
			if got := str(es[i], "response.status"); got != w {
				t.Errorf("entry %d: status %q, want %q", i, got, w)
			}
		}
		if es[0]["resource"] != nil || str(es[0], "response.location") == "" {
			t.Errorf("entry 0 with return=minimal: %v", es[0])
		}
		if !strings.Contains(str(es[1], "response.outcome.issue.0.diagnostics"), "Bundle.entry[1].resource.birthDate") {
			t.Errorf("entry 1 outcome: %v", es[1]["response"])
		}
		if len(entries(es[3]["resource"].(map[string]any))) != 1 {
			t.Errorf("the search entry did not find the Patient created before it")
		}
	})
}

// TestTransactionRelativeReferences checks that a relative reference
// names the entry whose fullUrl is this server's URL of it, as the PDSm
// examples refer to each other (DocumentReference/exemple-…), even when
// the server gives that entry another id.
func TestTransactionRelativeReferences(t *testing.T) {
	forEachEngine(t, func(t *testing.T, c *client) {
		b := tx("transaction",
			post(c.base+"/Patient/chosen-by-the-client", patient("Relative", "r")),
			post("", observation("Patient/chosen-by-the-client", "1")),
		)
		r := c.do(http.MethodPost, "", b).must(t, http.StatusOK)
		es := entries(r.json)
		id := str(es[0], "resource.id")
		if id == "chosen-by-the-client" || str(es[1], "resource.subject.reference") != "Patient/"+id {
			t.Errorf("the relative reference was not resolved to the entry: %s", r.body)
		}
	})
}
