package document_test

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/document"
)

// simplifiedPublish is the DocumentReference of an ITI-105 Simplified
// Publish of d: its bytes inline.
func simplifiedPublish(d doc) map[string]any {
	d = d.withDefaults()
	dr := d.documentReference("")
	att := attachment(dr)
	delete(att, "url")
	att["data"] = b64(d.data)
	return dr
}

// TestSimplifiedPublish covers ITI-105: the document inline in the
// DocumentReference is stored like any deposit; the stored
// DocumentReference points to a Binary and carries no data; a
// SubmissionSet is derived from it.
func TestSimplifiedPublish(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		d := doc{master: masterFor("simplified"), subject: testSubject, data: []byte("%PDF-1.4 simplified publish")}
		r := e.do(http.MethodPost, "DocumentReference", simplifiedPublish(d), "Prefer", "return=representation").must(t, http.StatusCreated)
		id := str(r.json, "id")
		if loc := r.header.Get("Location"); !strings.HasSuffix(loc, "/DocumentReference/"+id+"/_history/1") {
			t.Errorf("Location %q", loc)
		}
		att := at(r.json, "content.0.attachment").(map[string]any)
		if att["data"] != nil || !strings.HasPrefix(str(att, "url"), "Binary/") || !strings.HasPrefix(str(r.json, "subject.reference"), "Patient/") {
			t.Errorf("stored DocumentReference: %s", r.body)
		}
		if got, _ := e.bytesOf(t, id); !bytes.Equal(got, d.data) {
			t.Errorf("got back %q", got)
		}
		patient := str(r.json, "subject.reference")
		sets := e.search(t, "List", url.Values{"code": {mhdListTypes + "|submissionset"}, "patient": {patient}})
		if len(sets) != 1 {
			t.Fatalf("SubmissionSets of the patient: %v, want the derived one", sets)
		}
		set := e.do(http.MethodGet, "List/"+sets[0], nil).must(t, http.StatusOK)
		if str(set.json, "entry.0.item.reference") != "DocumentReference/"+id || str(set.json, "source.reference") != "#author" || str(set.json, "contained.0.id") != "author" {
			t.Errorf("derived SubmissionSet: %s", set.body)
		}
		events, _ := e.store.Events(t.Context(), time.Time{}, 10)
		if len(events) != 1 || events[0].Type != document.EventDeposited || events[0].Subject != "DocumentReference/"+id ||
			events[0].PatientKey != strings.TrimPrefix(patient, "Patient/") || time.Since(events[0].Time) > time.Minute {
			t.Errorf("outbox: %+v", events)
		}

		// Published again: the same document, nothing new.
		again := e.do(http.MethodPost, "DocumentReference", simplifiedPublish(d), "Prefer", "return=representation").must(t, http.StatusOK)
		if str(again.json, "id") != id {
			t.Errorf("second publish: %s", again.body)
		}
		if sets := e.search(t, "List", url.Values{"patient": {patient}}); len(sets) != 1 {
			t.Errorf("second publish made another SubmissionSet: %v", sets)
		}

		// A Simplified Publish carries the document.
		noData := simplifiedPublish(doc{master: masterFor("no data"), subject: testSubject})
		delete(attachment(noData), "data")
		attachment(noData)["url"] = "Binary/elsewhere"
		e.do(http.MethodPost, "DocumentReference", noData).outcome(t, 422, "attachment.data", "Simplified Publish (ITI-105)")
	})
}

// TestSizeLimit refuses a document above the limit with 413, naming
// where it is, in a Bundle and inline.
func TestSizeLimit(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		big := doc{master: masterFor("big"), data: bytes.Repeat([]byte("x"), 2049)}
		e.do(http.MethodPost, "", provideBundle(testSubject, big)).outcome(t, http.StatusRequestEntityTooLarge, "Bundle.entry[2].resource.data", "more than the limit of 2048 bytes")
		big.subject = testSubject
		e.do(http.MethodPost, "DocumentReference", simplifiedPublish(big)).outcome(t, http.StatusRequestEntityTooLarge, "attachment.data", "2048 bytes")
		ok := doc{master: masterFor("just right"), data: bytes.Repeat([]byte("x"), 2048)}
		e.deposited(t, testSubject, ok)
		if found := e.search(t, "DocumentReference", url.Values{"identifier": {big.master}}); !slices.Equal(found, nil) {
			t.Errorf("the document over the limit was stored: %v", found)
		}
	}, func(o *document.Options) { o.MaxSize = 2048 })
}
