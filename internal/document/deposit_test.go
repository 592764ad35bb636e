package document_test

import (
	"bytes"
	"net/http"
	"net/url"
	"slices"
	"strings"
	"testing"
	"time"
)

// deposited deposits docs for subject in one Provide Document Bundle and
// returns the ids of their DocumentReferences.
func (e *env) deposited(t *testing.T, subject string, docs ...doc) []string {
	t.Helper()
	r := e.do(http.MethodPost, "", provideBundle(subject, docs...)).must(t, http.StatusOK)
	es := entries(r.json)
	var ids []string
	for i := range docs {
		if got := str(es[1+2*i], "response.status"); got != "201 Created" {
			t.Fatalf("entry %d: %s\n%s", 1+2*i, got, r.body)
		}
		ids = append(ids, str(es[1+2*i], "resource.id"))
	}
	return ids
}

// search runs a search and returns the ids of its matches.
func (e *env) search(t *testing.T, typ string, params url.Values) []string {
	t.Helper()
	r := e.do(http.MethodGet, typ+"?"+params.Encode(), nil, "Prefer", "handling=strict").must(t, http.StatusOK)
	var ids []string
	for _, en := range entries(r.json) {
		if str(en, "search.mode") == "match" {
			ids = append(ids, str(en, "resource.id"))
		}
	}
	return ids
}

// bytesOf retrieves the document a DocumentReference points to (ITI-68).
func (e *env) bytesOf(t *testing.T, docRef string) ([]byte, *response) {
	t.Helper()
	dr := e.do(http.MethodGet, "DocumentReference/"+docRef, nil).must(t, http.StatusOK)
	u := str(dr.json, "content.0.attachment.url")
	if !strings.HasPrefix(u, "Binary/") || dr.json["content"].([]any)[0].(map[string]any)["attachment"].(map[string]any)["data"] != nil {
		t.Fatalf("attachment of DocumentReference/%s: %s", docRef, dr.body)
	}
	r := e.do(http.MethodGet, u, nil).must(t, http.StatusOK)
	return r.body, r
}

// TestRoundTrip deposits a PDF and a CDA document, finds each by every
// ITI-67 parameter, and gets back the very bytes deposited.
func TestRoundTrip(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		pdf := doc{master: masterFor("rt-pdf"), typeCode: "11488-4", class: "10", labels: []string{"N"}, setting: "ETABLISSEMENT",
			date: "2025-03-01T10:00:00+01:00", start: "2025-03-01T08:00:00+01:00", event: "GLQP012", rpps: "10101201234"}
		cda := cdaDoc(doc{master: masterFor("rt-cda"), typeCode: "34133-9", class: "11", labels: []string{"R", "MASQUE_PS"}, setting: "AMBULATOIRE",
			date: "2025-04-10T16:30:00+02:00", start: "2025-04-09T09:00:00+02:00", event: "ZCQK002", rpps: "10003456789"}, "Synthèse d'épisode")
		ids := e.deposited(t, testSubject, pdf, cda)
		pdf, cda = pdf.withDefaults(), cda.withDefaults()
		patient := strings.TrimPrefix(str(e.do(http.MethodGet, "DocumentReference/"+ids[0], nil).json, "subject.reference"), "Patient/")
		if p := e.do(http.MethodGet, "Patient/"+patient, nil).must(t, http.StatusOK); !strings.Contains(string(p.body), testINS) {
			t.Errorf("the patient created on first deposit lacks the INS: %s", p.body)
		}

		for i, d := range []doc{pdf, cda} {
			got, r := e.bytesOf(t, ids[i])
			if !bytes.Equal(got, d.data) {
				t.Errorf("document %d: got %d bytes back, not the %d deposited", i, len(got), len(d.data))
			}
			if ct := r.header.Get("Content-Type"); ct != d.contentType {
				t.Errorf("document %d: Content-Type %q, want %q", i, ct, d.contentType)
			}
		}

		other := map[string]string{ids[0]: ids[1], ids[1]: ids[0]}
		for _, tc := range []struct {
			param  string
			values [2]string // for the PDF, for the CDA
		}{
			{"security-label", [2]string{confSystem + "|N", "R"}},
			{"category", [2]string{classSystem + "|10", classSystem + "|11"}},
			{"type", [2]string{loinc + "|11488-4", loinc + "|34133-9"}},
			{"setting", [2]string{settingSys + "|ETABLISSEMENT", settingSys + "|AMBULATOIRE"}},
			{"creation", [2]string{"2025-03-01", "ge2025-04-10"}},
			{"period", [2]string{"lt2025-03-02", "2025-04"}}, // the PDF's period has no end
			{"author:identifier", [2]string{"https://rpps.esante.gouv.fr|10101201234", "https://rpps.esante.gouv.fr|10003456789"}},
			{"format", [2]string{formatSystem + "|urn:ihe:iti:xds-sd:pdf:2008", cisisFormats + "|urn:asip:ci-sis:2010"}},
			{"identifier", [2]string{"urn:ietf:rfc:3986|" + pdf.master, cda.master}},
			{"event", [2]string{"GLQP012", "urn:oid:1.2.250.1.213.2.5|ZCQK002"}},
		} {
			for i, v := range tc.values {
				found := e.search(t, "DocumentReference", url.Values{tc.param: {v}, "patient": {"Patient/" + patient}})
				if !slices.Contains(found, ids[i]) || slices.Contains(found, other[ids[i]]) {
					t.Errorf("DocumentReference?%s=%s found %v; want %s only", tc.param, v, found, ids[i])
				}
			}
		}
		for _, q := range []url.Values{
			{"status": {"current"}, "patient": {"Patient/" + patient}},
			{"patient": {"Patient/" + patient}},
			{"subject": {"Patient/" + patient}, "security-label": {visSystem + "|MASQUE_PS", "R"}},
		} {
			found := e.search(t, "DocumentReference", q)
			want := slices.Clone(ids)
			if q.Has("security-label") {
				want = want[1:]
			}
			slices.Sort(found)
			slices.Sort(want)
			if !slices.Equal(found, want) {
				t.Errorf("DocumentReference?%s found %v, want %v", q.Encode(), found, want)
			}
		}
	})
}

// TestIntegrityRefused checks that a size or hash that do not describe
// the bytes are refused, naming the element, and that nothing is stored.
func TestIntegrityRefused(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		tests := []struct {
			name  string
			edit  func(dr map[string]any)
			parts []string
		}{
			{"size", func(dr map[string]any) { attachment(dr)["size"] = 3 }, []string{"Bundle.entry[1]: DocumentReference.content[0].attachment.size", "3 bytes, but the document has"}},
			{"hash", func(dr map[string]any) { attachment(dr)["hash"] = sha1b64([]byte("other")) }, []string{"DocumentReference.content[0].attachment.hash", "is not the SHA-1 of the document"}},
			{"hex hash", func(dr map[string]any) { attachment(dr)["hash"] = "2aae6c35c94fcfb415dbe95f408b9ce91ee846ed" }, []string{"attachment.hash", "not the 20 of a SHA-1"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				b := provideBundle(testSubject, doc{master: masterFor("integrity " + tc.name)})
				tc.edit(resourceOf(b, 1))
				e.do(http.MethodPost, "", b).outcome(t, http.StatusUnprocessableEntity, tc.parts...)
				if n := len(e.search(t, "DocumentReference", url.Values{"identifier": {masterFor("integrity " + tc.name)}})); n != 0 {
					t.Errorf("the refused document was stored")
				}
			})
		}
	})
}

// TestDeduplication deposits the same document twice: one document, and
// the second deposit's response points to it.
func TestDeduplication(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		d := doc{master: masterFor("dedup")}
		first := e.deposited(t, testSubject, d)
		before, err := e.store.Events(t.Context(), time.Time{}, 100)
		if err != nil {
			t.Fatal(err)
		}
		r := e.do(http.MethodPost, "", provideBundle(testSubject, d)).must(t, http.StatusOK)
		es := entries(r.json)
		if str(es[1], "response.status") != "200 OK" || str(es[1], "resource.id") != first[0] || !strings.HasPrefix(str(es[1], "response.location"), "DocumentReference/"+first[0]+"/") {
			t.Errorf("second deposit: %v", es[1]["response"])
		}
		if !strings.Contains(diagnostics(at(es[1], "response.outcome")), "deposited already, as DocumentReference/"+first[0]) {
			t.Errorf("no warning on the duplicate: %v", es[1]["response"])
		}
		if str(es[2], "response.status") != "200 OK" || str(es[0], "response.status") != "200 OK" {
			t.Errorf("the Binary and SubmissionSet of the retried deposit were written again: %s", r.body)
		}
		if found := e.search(t, "DocumentReference", url.Values{"identifier": {d.master}}); len(found) != 1 {
			t.Errorf("found %v, want one document", found)
		}
		after, _ := e.store.Events(t.Context(), time.Time{}, 100)
		if len(after) != len(before) {
			t.Errorf("the duplicate wrote an outbox event: %d then %d", len(before), len(after))
		}

		// The same unique id with other bytes, or for another patient,
		// is refused.
		changed := d
		changed.data = []byte("%PDF-1.4 other bytes")
		e.do(http.MethodPost, "", provideBundle(testSubject, changed)).outcome(t, http.StatusConflict, "XDSNonIdenticalHash")
		e.do(http.MethodPost, "", provideBundle("Patient?identifier="+insTest+"|180017505600103", d)).outcome(t, http.StatusConflict, "another patient")
	})
}

// resourceOf returns the resource of entry i of a Bundle.
func resourceOf(b map[string]any, i int) map[string]any {
	return b["entry"].([]any)[i].(map[string]any)["resource"].(map[string]any)
}

// attachment returns the attachment of a DocumentReference.
func attachment(dr map[string]any) map[string]any {
	return dr["content"].([]any)[0].(map[string]any)["attachment"].(map[string]any)
}
