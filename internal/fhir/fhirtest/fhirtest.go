// Package fhirtest reads FHIR JSON answers in tests, as decoded by
// encoding/json into map[string]any: values at a dotted path, a Bundle's
// entries and the resources they hold; and builds the requests that get
// them. It is for tests only, like net/http/httptest.
package fhirtest

import (
	"bytes"
	"encoding/json"
	"io"
	"net/http"
	"strings"
	"testing"
)

// At returns the value at a path of dotted keys and array indexes
// ("entry.0.resource.id"), or nil.
func At(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch n := v.(type) {
		case map[string]any:
			v = n[k]
		case []any:
			i := 0
			for _, c := range k {
				if c < '0' || c > '9' {
					return nil
				}
				i = i*10 + int(c-'0')
			}
			if i >= len(n) {
				return nil
			}
			v = n[i]
		default:
			return nil
		}
	}
	return v
}

// Str returns the string at a path (see At), or "".
func Str(v any, path string) string {
	s, _ := At(v, path).(string)
	return s
}

// Entries returns the entries of a Bundle.
func Entries(b map[string]any) []map[string]any {
	raw, _ := b["entry"].([]any)
	out := make([]map[string]any, len(raw))
	for i, e := range raw {
		out[i], _ = e.(map[string]any)
	}
	return out
}

// IDs returns Type/id of the resources of a Bundle's entries whose
// search mode is mode ("" for every entry with a resource).
func IDs(b map[string]any, mode string) []string {
	var out []string
	for _, e := range Entries(b) {
		if e["resource"] != nil && (mode == "" || Str(e, "search.mode") == mode) {
			out = append(out, Str(e, "resource.resourceType")+"/"+Str(e, "resource.id"))
		}
	}
	return out
}

// NewRequest builds a request to the API at url: body is sent as is when
// it is a string or []byte, encoded as JSON otherwise (as
// application/fhir+json); headers are name, value pairs.
func NewRequest(t testing.TB, method, url string, body any, headers ...string) *http.Request {
	t.Helper()
	var r io.Reader
	switch b := body.(type) {
	case nil:
	case string:
		r = strings.NewReader(b)
	case []byte:
		r = bytes.NewReader(b)
	default:
		data, err := json.Marshal(b)
		if err != nil {
			t.Fatal(err)
		}
		r = bytes.NewReader(data)
	}
	req, err := http.NewRequest(method, url, r)
	if err != nil {
		t.Fatal(err)
	}
	if body != nil {
		req.Header.Set("Content-Type", "application/fhir+json")
	}
	for i := 0; i+1 < len(headers); i += 2 {
		req.Header.Set(headers[i], headers[i+1])
	}
	return req
}
