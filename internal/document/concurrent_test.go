package document_test

import (
	"bytes"
	"fmt"
	"net/http"
	"net/url"
	"os"
	"path/filepath"
	"testing"
)

// TestManyDocuments deposits a bundle of more documents than are put in
// the vault at once, one of them deposited already, and gets back each
// document's own bytes, with the response entries in the bundle's order.
func TestManyDocuments(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		again := doc{master: masterFor("many-again")}
		first := e.deposited(t, testSubject, again)
		var docs []doc
		for i := range 19 {
			d := doc{master: masterFor(fmt.Sprint("many-", i)), data: fmt.Appendf(nil, "%%PDF-1.4 document %d of many", i)}
			if i == 7 {
				d = again
			}
			docs = append(docs, d)
		}
		r := e.do(http.MethodPost, "", provideBundle(testSubject, docs...)).must(t, http.StatusOK)
		es := entries(r.json)
		for i, d := range docs {
			dr, bin := es[1+2*i], es[2+2*i]
			want := "201 Created"
			if i == 7 {
				want = "200 OK"
				if id := str(dr, "resource.id"); id != first[0] {
					t.Errorf("entry %d: DocumentReference/%s, want the one deposited already, %s", 1+2*i, id, first[0])
				}
			}
			if got := str(dr, "response.status"); got != want {
				t.Fatalf("entry %d: %s, want %s\n%s", 1+2*i, got, want, r.body)
			}
			if u := str(dr, "resource.content.0.attachment.url"); u != "Binary/"+str(bin, "resource.id") {
				t.Errorf("entry %d points to %s, not to the Binary of entry %d (%s)", 1+2*i, u, 2+2*i, str(bin, "resource.id"))
			}
			got, _ := e.bytesOf(t, str(dr, "resource.id"))
			if want := d.withDefaults().data; !bytes.Equal(got, want) {
				t.Errorf("document %d: got back %q, want %q", i, got, want)
			}
		}
	})
}

// TestPutFailure checks that a bundle whose bytes cannot be stored is
// refused whole.
func TestPutFailure(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		var docs []doc
		for i := range 10 {
			docs = append(docs, doc{master: masterFor(fmt.Sprint("fail-", i))})
		}
		key, err := e.blobs.Path("x")
		if err != nil {
			t.Fatal(err)
		}
		// Without its staging directory, the blob store can start no write.
		if err := os.RemoveAll(filepath.Join(filepath.Dir(filepath.Dir(filepath.Dir(key))), "tmp")); err != nil {
			t.Fatal(err)
		}
		r := e.do(http.MethodPost, "", provideBundle(testSubject, docs...))
		if r.status < 500 {
			t.Fatalf("deposit with a broken blob store: status %d, want a server error\n%s", r.status, r.body)
		}
		if found := e.search(t, "DocumentReference", url.Values{"identifier": {docs[0].withDefaults().master}}); len(found) != 0 {
			t.Errorf("found %v after a failed deposit", found)
		}
	})
}
