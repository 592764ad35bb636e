package identity_test

import (
	"context"
	"encoding/json"
	"io"
	"math/rand/v2"
	"net/http"
	"net/http/httptest"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/fhirtest"
	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/identity"
	"github.com/carnet-sante/carnet/internal/ins"
	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/store/enginetest"
	"github.com/carnet-sante/carnet/internal/terminology"
)

// sharedDir is the shared reference data beside the checkout.
const sharedDir = "../../../shared"

// engines are the store engines every test runs against: the identity
// rules must give the same answers on both.
var engines = enginetest.Engines

// forEachEngine runs test, in parallel, against an API with the identity
// rules (options opt) on each engine.
func forEachEngine(t *testing.T, opt identity.Options, test func(t *testing.T, c *client)) {
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			test(t, newClient(t, e.Open(t), opt))
		})
	}
}

// defaults are the rule options of most tests.
var defaults = identity.Options{DuplicateKeySecret: []byte("test secret")}

// newClient serves the API with the identity rules over s.
func newClient(t testing.TB, s store.Store, opt identity.Options) *client {
	t.Helper()
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	rest.New(s, rest.Options{BaseURL: srv.URL + rest.BasePath, Rules: identity.Rules(opt)}).Register(mux)
	return &client{t: t, url: srv.URL + rest.BasePath}
}

// client talks to the API under test.
type client struct {
	t   testing.TB
	url string
}

// response is an answer of the API, its JSON body decoded.
type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// do sends a request with a JSON body (a string is sent as is) and
// header name, value pairs.
func (c *client) do(method, path string, body any, headers ...string) *response {
	c.t.Helper()
	req := fhirtest.NewRequest(c.t, method, c.url+"/"+path, body, headers...)
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
			c.t.Fatalf("%s %s: the body is not JSON: %v\n%s", method, path, err, res.body)
		}
	}
	return res
}

// must fails the test unless r has the status.
func (r *response) must(t testing.TB, status int) *response {
	t.Helper()
	if r.status != status {
		t.Fatalf("status %d, want %d; body:\n%s", r.status, status, r.body)
	}
	return r
}

// issues returns the issues of an OperationOutcome body, or of the
// outcome of a Bundle entry.
func issues(outcome any) []map[string]any {
	raw, _ := at(outcome, "issue").([]any)
	out := make([]map[string]any, len(raw))
	for i, is := range raw {
		out[i], _ = is.(map[string]any)
	}
	return out
}

// findIssue returns the first issue of that severity whose expression is
// path, nil if none.
func findIssue(outcome any, severity, path string) map[string]any {
	for _, is := range issues(outcome) {
		if is["severity"] == severity && str(is, "expression.0") == path {
			return is
		}
	}
	return nil
}

// person describes a test identity.
type person struct {
	id, birthName, given, birthDate, birthplace string
	sex                                         ins.Sex
	status                                      ins.Status
	attrs                                       []ins.Attribute
	insSystem, nir, use                         string
}

// patient returns the FR Core Patient of p, as ins writes it, with its
// id; the INS is added whatever the status, so that tests can check what
// the API does with it.
func (p person) patient() map[string]any {
	first := ""
	if f := strings.Fields(p.given); len(f) > 0 {
		first = f[0]
	}
	id := ins.Identity{
		Traits: ins.Traits{BirthName: p.birthName, BirthGivenNames: p.given, FirstGivenName: first,
			BirthDate: p.birthDate, Sex: p.sex, Birthplace: p.birthplace},
		Status: p.status, Attributes: p.attrs,
	}
	fields, err := id.PatientFields()
	if err != nil {
		panic(err)
	}
	if p.id != "" {
		fields["id"] = p.id
	}
	if p.nir != "" {
		ident := map[string]any{"system": p.insSystem, "value": p.nir}
		if p.use != "" {
			ident["use"] = p.use
		}
		fields["identifier"] = []any{map[string]any{"system": "urn:oid:1.2.3.4", "value": "local-" + p.id}, ident}
	}
	return fields
}

// nir returns a valid NIR for the person born that year and month in
// that place; seed makes it unique.
func nir(seed uint64, sex ins.Sex, year, month int, place string) string {
	n, err := ins.GenerateNIR(rand.New(rand.NewPCG(seed, 1)), sex, year, month, place)
	if err != nil {
		panic(err)
	}
	return n.String()
}

// catalog loads the shared terminology, or skips the test without it.
func catalog(t testing.TB) *terminology.Catalog {
	t.Helper()
	c, err := terminology.Load(filepath.Join(sharedDir, "terminology"))
	if err != nil {
		t.Skipf("shared terminology not beside the checkout: %v", err)
	}
	return c
}

// jsonOf encodes v.
func jsonOf(t testing.TB, v any) string {
	t.Helper()
	b, err := json.Marshal(v)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// Reading the JSON of answers: see fhirtest.
var (
	str     = fhirtest.Str
	at      = fhirtest.At
	entries = fhirtest.Entries
)

// ids returns Type/id of the resources of a searchset's matches.
func ids(b map[string]any) []string { return fhirtest.IDs(b, "match") }
