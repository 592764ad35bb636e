package rest_test

import (
	"context"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/fhirtest"
	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/store/enginetest"
)

// engines are the store engines every test of this package runs against.
var engines = enginetest.Engines

// forEachEngine runs test against a fresh API on each engine.
func forEachEngine(t *testing.T, test func(t *testing.T, c *client)) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			test(t, newClient(t, e.Open(t), rest.Options{}))
		})
	}
}

// newClient serves the API over s (migrated, closed at the end) and
// returns a client for it.
func newClient(t testing.TB, s store.Store, opt rest.Options) *client {
	t.Helper()
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	if opt.BaseURL == "" {
		opt.BaseURL = srv.URL + rest.BasePath
	}
	rest.New(s, opt).Register(mux)
	return &client{t: t, srv: srv, base: opt.BaseURL}
}

// client talks to the API under test.
type client struct {
	t    testing.TB
	srv  *httptest.Server
	base string
}

// response is an answer of the API, its body decoded when it is JSON.
type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// do sends a request; body is sent as is when it is a string or []byte,
// encoded as JSON otherwise. headers are name, value pairs.
func (c *client) do(method, path string, body any, headers ...string) *response {
	c.t.Helper()
	req := fhirtest.NewRequest(c.t, method, c.srv.URL+rest.BasePath+"/"+strings.TrimPrefix(path, "/"), body, headers...)
	return c.send(req)
}

// get follows a URL of the API (a next link).
func (c *client) get(url string) *response {
	c.t.Helper()
	req, err := http.NewRequest(http.MethodGet, url, nil)
	if err != nil {
		c.t.Fatal(err)
	}
	return c.send(req)
}

func (c *client) send(req *http.Request) *response {
	c.t.Helper()
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		c.t.Fatal(err)
	}
	defer resp.Body.Close()
	res := &response{status: resp.StatusCode, header: resp.Header}
	if res.body, err = io.ReadAll(resp.Body); err != nil {
		c.t.Fatal(err)
	}
	if len(res.body) > 0 {
		if err := json.Unmarshal(res.body, &res.json); err != nil {
			c.t.Fatalf("%s %s: the body is not a JSON object: %v\n%s", req.Method, req.URL, err, res.body)
		}
		if ct := resp.Header.Get("Content-Type"); !strings.HasPrefix(ct, "application/fhir+json") {
			c.t.Errorf("%s %s: Content-Type %q", req.Method, req.URL, ct)
		}
	}
	return res
}

// must fails the test unless the response has the status.
func (r *response) must(t testing.TB, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, status, r.body)
	}
	return r
}

// outcome checks that r is an OperationOutcome error with the status and
// a diagnostic containing each of the parts.
func (r *response) outcome(t testing.TB, status int, parts ...string) {
	t.Helper()
	if r.status != status {
		t.Errorf("status %d, want %d; body:\n%s", r.status, status, r.body)
		return
	}
	if r.json["resourceType"] != "OperationOutcome" {
		t.Errorf("body is not an OperationOutcome:\n%s", r.body)
		return
	}
	var text strings.Builder
	for _, is := range r.json["issue"].([]any) {
		text.WriteString(str(is, "diagnostics") + "\n")
	}
	for _, p := range parts {
		if !strings.Contains(text.String(), p) {
			t.Errorf("the OperationOutcome does not mention %q:\n%s", p, r.body)
		}
	}
}

// link returns the URL of a Bundle's link of that relation, or "".
func link(b map[string]any, relation string) string {
	links, _ := b["link"].([]any)
	for _, l := range links {
		if str(l, "relation") == relation {
			return str(l, "url")
		}
	}
	return ""
}

// patient returns a Patient resource with a family name and identifier.
func patient(family, identifier string) map[string]any {
	return map[string]any{
		"resourceType": "Patient",
		"identifier":   []any{map[string]any{"system": "urn:test", "value": identifier}},
		"name":         []any{map[string]any{"family": family, "given": []any{"Test"}}},
		"gender":       "female",
		"birthDate":    "1970-01-01",
	}
}

// observation returns an Observation of a code about a subject.
func observation(subject, code string) map[string]any {
	return map[string]any{
		"resourceType": "Observation",
		"status":       "final",
		"code":         map[string]any{"coding": []any{map[string]any{"system": "http://loinc.org", "code": code}}},
		"subject":      map[string]any{"reference": subject},
	}
}

// create POSTs a resource and returns its id.
func (c *client) create(res map[string]any) string {
	c.t.Helper()
	r := c.do(http.MethodPost, res["resourceType"].(string), res)
	r.must(c.t, http.StatusCreated)
	return str(r.json, "id")
}

// Reading the JSON of answers: see fhirtest.
var (
	str     = fhirtest.Str
	at      = fhirtest.At
	entries = fhirtest.Entries
	ids     = fhirtest.IDs
)
