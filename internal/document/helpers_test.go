package document_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"encoding/base64"
	"encoding/json"
	"io"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/blob"
	blobfs "github.com/carnet-sante/carnet/internal/blob/fs"
	"github.com/carnet-sante/carnet/internal/document"
	"github.com/carnet-sante/carnet/internal/fhir/fhirtest"
	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/keyring"
	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/store/enginetest"
	"github.com/carnet-sante/carnet/internal/terminology"
)

// The shared fixtures and value sets, read in place (never copied).
const (
	pdsmFixtures   = "../../../shared/fixtures/pdsm"
	ccdaFixtures   = "../../../shared/fixtures/ccda"
	terminologyDir = "../../../shared/terminology"
)

// engines are the store engines every test of this package runs against.
var engines = enginetest.Engines

// env is the FHIR API with document sharing, as the app wires it, on one
// engine and a blob directory.
type env struct {
	t       testing.TB
	srv     *httptest.Server
	base    string
	store   store.Store
	blobs   *blobfs.Backend
	service *document.Service
}

// option changes the service options of an env.
type option func(*document.Options)

// forEachEngine runs test on a fresh env on each engine.
func forEachEngine(t *testing.T, test func(t *testing.T, e *env), opts ...option) {
	for _, eng := range engines {
		t.Run(eng.Name, func(t *testing.T) {
			t.Parallel()
			test(t, newEnv(t, eng.Open(t), opts...))
		})
	}
}

var catalog = func() *terminology.Catalog {
	c, err := terminology.Load(terminologyDir)
	if err != nil {
		panic(err)
	}
	return c
}()

func newEnv(t testing.TB, s store.Store, opts ...option) *env {
	t.Helper()
	t.Cleanup(func() { s.Close() })
	if err := s.Migrate(context.Background()); err != nil {
		t.Fatal(err)
	}
	blobs, err := blobfs.Open(filepath.Join(t.TempDir(), "blobs"))
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { blobs.Close() })
	master := make([]byte, 32)
	rand.Read(master)
	keys, err := keyring.New(master, s, keyring.DefaultCacheSize)
	if err != nil {
		t.Fatal(err)
	}
	o := document.Options{Terminology: catalog, PatientIDKey: []byte("test key")}
	for _, opt := range opts {
		opt(&o)
	}
	svc := document.New(s, blob.NewVault(blobs, keys), o)
	mux := http.NewServeMux()
	srv := httptest.NewServer(mux)
	t.Cleanup(srv.Close)
	base := srv.URL + rest.BasePath
	rest.New(s, rest.Options{BaseURL: base, Rules: svc.Rules(), Preparers: []rest.Preparer{svc}}).Register(mux)
	svc.Register(mux)
	return &env{t: t, srv: srv, base: base, store: s, blobs: blobs, service: svc}
}

// response is an answer of the API; json is its body decoded, when JSON.
type response struct {
	status int
	header http.Header
	body   []byte
	json   map[string]any
}

// do sends a request to the API; body is sent as is when it is a string
// or []byte, encoded as JSON otherwise; headers are name, value pairs.
func (e *env) do(method, path string, body any, headers ...string) *response {
	e.t.Helper()
	req := fhirtest.NewRequest(e.t, method, e.base+"/"+strings.TrimPrefix(path, "/"), body, headers...)
	resp, err := http.DefaultClient.Do(req)
	if err != nil {
		e.t.Fatal(err)
	}
	defer resp.Body.Close()
	res := &response{status: resp.StatusCode, header: resp.Header}
	if res.body, err = io.ReadAll(resp.Body); err != nil {
		e.t.Fatal(err)
	}
	if strings.Contains(resp.Header.Get("Content-Type"), "json") {
		if err := json.Unmarshal(res.body, &res.json); err != nil {
			e.t.Fatalf("%s %s: the body is not a JSON object: %v\n%s", method, path, err, res.body)
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

// outcome checks that r is an OperationOutcome with the status whose
// diagnostics mention each part.
func (r *response) outcome(t testing.TB, status int, parts ...string) {
	t.Helper()
	if r.status != status || str(r.json, "resourceType") != "OperationOutcome" {
		t.Errorf("status %d, want %d with an OperationOutcome; body:\n%s", r.status, status, r.body)
		return
	}
	text := diagnostics(r.json)
	for _, p := range parts {
		if !strings.Contains(text, p) {
			t.Errorf("the OperationOutcome does not mention %q:\n%s", p, r.body)
		}
	}
}

// diagnostics joins the diagnostics of an OperationOutcome's issues.
func diagnostics(outcome any) string {
	var b strings.Builder
	issues, _ := at(outcome, "issue").([]any)
	for _, is := range issues {
		b.WriteString(str(is, "severity") + ": " + str(is, "diagnostics") + "\n")
	}
	return b.String()
}

// fixture reads a shared PDSm example.
func fixture(t testing.TB, name string) map[string]any {
	t.Helper()
	data, err := os.ReadFile(filepath.Join(pdsmFixtures, name))
	if err != nil {
		t.Fatal(err)
	}
	return fixtureJSON(t, data)
}

// fixtureJSON decodes a JSON file, without its byte order mark if any.
func fixtureJSON(t testing.TB, data []byte) map[string]any {
	t.Helper()
	var m map[string]any
	if err := json.Unmarshal(bytes.TrimPrefix(data, []byte("\xef\xbb\xbf")), &m); err != nil {
		t.Fatal(err)
	}
	return m
}

// b64 encodes bytes as FHIR base64Binary.
func b64(data []byte) string { return base64.StdEncoding.EncodeToString(data) }

// Reading the JSON of answers: see fhirtest.
var (
	str     = fhirtest.Str
	at      = fhirtest.At
	entries = fhirtest.Entries
)
