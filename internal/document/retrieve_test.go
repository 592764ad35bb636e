package document_test

import (
	"bytes"
	"crypto/sha256"
	"encoding/base64"
	"encoding/hex"
	"net/http"
	"os"
	"strconv"
	"strings"
	"testing"
)

// TestRetrieve covers ITI-68: the bytes with their headers, ranges,
// conditional requests, the Binary resource on request, and the refusal
// to serve bytes that are not those deposited.
func TestRetrieve(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		data := bytes.Repeat([]byte("0123456789abcdef"), 9000) // several vault chunks
		id := e.deposited(t, testSubject, doc{master: masterFor("retrieve"), data: data})[0]
		url := str(e.do(http.MethodGet, "DocumentReference/"+id, nil).json, "content.0.attachment.url")
		sum := sha256.Sum256(data)
		etag := `"` + hex.EncodeToString(sum[:]) + `"`

		r := e.do(http.MethodGet, url, nil)
		if r.status != 200 || !bytes.Equal(r.body, data) || r.header.Get("Content-Type") != "application/pdf" ||
			r.header.Get("Content-Length") != strconv.Itoa(len(data)) || r.header.Get("ETag") != etag || r.header.Get("Accept-Ranges") != "bytes" {
			t.Fatalf("GET %s: %d, %d bytes, headers %v", url, r.status, len(r.body), r.header)
		}
		r = e.do(http.MethodGet, url, nil, "Range", "bytes=70000-70009")
		if r.status != http.StatusPartialContent || !bytes.Equal(r.body, data[70000:70010]) || r.header.Get("Content-Range") != "bytes 70000-70009/"+strconv.Itoa(len(data)) {
			t.Errorf("range: %d %q %v", r.status, r.body, r.header)
		}
		if r = e.do(http.MethodGet, url, nil, "If-None-Match", etag); r.status != http.StatusNotModified {
			t.Errorf("If-None-Match: %d", r.status)
		}
		if r = e.do(http.MethodHead, url, nil); r.status != 200 || len(r.body) != 0 || r.header.Get("Content-Length") != strconv.Itoa(len(data)) {
			t.Errorf("HEAD: %d, %d bytes, %v", r.status, len(r.body), r.header)
		}
		for _, accept := range []string{"application/fhir+json", "application/fhir+json; fhirVersion=4.0"} {
			r = e.do(http.MethodGet, url, nil, "Accept", accept).must(t, http.StatusOK)
			if str(r.json, "resourceType") != "Binary" || str(r.json, "data") != base64.StdEncoding.EncodeToString(data) || r.json["_data"] != nil {
				t.Errorf("Accept %s: %.200s", accept, r.body)
			}
		}
		if r = e.do(http.MethodGet, url+"?_format=json", nil).must(t, http.StatusOK); str(r.json, "contentType") != "application/pdf" {
			t.Errorf("_format=json: %.200s", r.body)
		}
		e.do(http.MethodGet, "Binary/missing", nil).outcome(t, http.StatusNotFound, "Binary/missing is not known")

		// The stored Binary holds no bytes, only the pointer.
		raw, err := e.store.Read(t.Context(), "Binary", strings.TrimPrefix(url, "Binary/"))
		if err != nil || bytes.Contains(raw.Content, []byte(`"data"`)) || !bytes.Contains(raw.Content, []byte("document-blob")) {
			t.Errorf("stored Binary: %s, %v", raw.Content, err)
		}

		// Binary is not written but by a deposit.
		e.do(http.MethodPost, "Binary", map[string]any{"resourceType": "Binary", "contentType": "text/plain", "data": "aGk="}).outcome(t, 422, "written by depositing the document")
		e.do(http.MethodPut, url, map[string]any{"resourceType": "Binary", "id": strings.TrimPrefix(url, "Binary/"), "contentType": "text/plain", "data": "aGk="}).outcome(t, 422, "never changed afterwards")

		// An altered object is never served.
		key := hex.EncodeToString(sum[:])
		path := blobPath(t, e, key)
		stored, _ := os.ReadFile(path)
		altered := bytes.Clone(stored)
		altered[len(altered)/2] ^= 1
		os.WriteFile(path, altered, 0o600)
		e.do(http.MethodGet, url, nil).outcome(t, http.StatusInternalServerError, "failed their integrity check", "not served")
		e.do(http.MethodGet, url, nil, "Range", "bytes=0-9").outcome(t, http.StatusInternalServerError, "integrity")
		e.do(http.MethodGet, url, nil, "Accept", "application/fhir+json").outcome(t, http.StatusInternalServerError, "integrity")
		os.WriteFile(path, stored[:len(stored)-100], 0o600)
		e.do(http.MethodGet, url, nil).outcome(t, http.StatusInternalServerError, "integrity")
		os.Remove(path)
		e.do(http.MethodGet, url, nil).outcome(t, http.StatusInternalServerError, "missing")
	})
}

// blobPath is the file of the vault object whose name ends with the
// SHA-256 hex.
func blobPath(t *testing.T, e *env, sha string) string {
	t.Helper()
	r := e.do(http.MethodGet, "Binary?_count=100", nil).must(t, http.StatusOK)
	for _, en := range entries(r.json) {
		for _, ext := range at(en, "resource._data.extension.0.extension").([]any) {
			if k := str(ext, "valueString"); strings.HasSuffix(k, sha) {
				p, err := e.blobs.Path(k)
				if err != nil {
					t.Fatal(err)
				}
				return p
			}
		}
	}
	t.Fatalf("no stored Binary for %s", sha)
	return ""
}
