package document_test

import (
	"bytes"
	"errors"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/cda"
	"github.com/carnet-sante/carnet/internal/document"
)

// TestCDA deposits CDA R2 documents: the header is parsed strictly and
// held to the metadata, and the narrative is rendered safe for the portal.
func TestCDA(t *testing.T) {
	forEachEngine(t, func(t *testing.T, e *env) {
		good := cdaDoc(doc{master: masterFor("cda good")}, "CR de consultation")
		id := e.deposited(t, testSubject, good)[0]
		html, err := e.service.Narrative(t.Context(), id)
		if err != nil || !strings.Contains(string(html), "Examen normal &lt;sans&gt; particularité &amp; suivi.") || strings.Contains(string(html), "<sans>") {
			t.Errorf("Narrative = %q, %v", html, err)
		}
		pdf := e.deposited(t, testSubject, doc{master: masterFor("cda pdf")})[0]
		if _, err := e.service.Narrative(t.Context(), pdf); !errors.Is(err, document.ErrNotCDA) {
			t.Errorf("Narrative of a PDF: %v, want ErrNotCDA", err)
		}

		tests := []struct {
			name   string
			edit   func(d *doc)
			status int
			parts  []string
		}{
			{"type", func(d *doc) { d.typeCode = "34133-9" }, 422, []string{"DocumentReference.type", "ClinicalDocument/code"}},
			{"date", func(d *doc) { d.date = "2025-03-02T10:00:00+01:00" }, 422, []string{"DocumentReference.date", "ClinicalDocument/effectiveTime"}},
			{"confidentiality", func(d *doc) { d.labels = []string{"V"} }, 422, []string{"DocumentReference.securityLabel", "confidentialityCode"}},
			{"author", func(d *doc) { d.rpps = "19999999999" }, 422, []string{"DocumentReference.author"}},
			{"not XML", func(d *doc) { d.data = []byte("%PDF-1.4 this is no XML") }, 400, []string{"attachment", "not a valid CDA R2 document", "not XML"}},
			{"not CDA", func(d *doc) { d.data = []byte(`<?xml version="1.0"?><note>bonjour</note>`) }, 400, []string{"not a CDA document"}},
			{"DTD", func(d *doc) {
				d.data = []byte(`<?xml version="1.0"?><!DOCTYPE x [<!ENTITY e SYSTEM "file:///etc/passwd">]><ClinicalDocument xmlns="urn:hl7-org:v3">&e;</ClinicalDocument>`)
			}, 400, []string{"DTD"}},
			{"header", func(d *doc) {
				start, end := bytes.Index(d.data, []byte("<custodian>")), bytes.Index(d.data, []byte("</custodian>"))+len("</custodian>")
				d.data = append(d.data[:start:start], d.data[end:]...)
			}, 422, []string{"not a valid CDA R2 document", "missing custodian"}},
		}
		for _, tc := range tests {
			t.Run(tc.name, func(t *testing.T) {
				d := cdaDoc(doc{master: masterFor("cda " + tc.name)}, "CR de consultation")
				if strings.HasPrefix(tc.name, "not") || tc.name == "DTD" || tc.name == "header" {
					tc.edit(&d)
				} else { // a header that says something else than the metadata
					meta := d
					tc.edit(&meta)
					meta.data = d.data
					d = meta
				}
				e.do(http.MethodPost, "", provideBundle(testSubject, d)).outcome(t, tc.status, tc.parts...)
			})
		}

		// The patient of the header must be the subject.
		other := cdaDoc(doc{master: masterFor("cda other patient")}, "CR de consultation")
		e.do(http.MethodPost, "", provideBundle("Patient?identifier="+insTest+"|180017505600103", other)).outcome(t, 422, "DocumentReference.subject", "recordTarget")
	})
}

// TestCCDA deposits the US C-CDA samples, their metadata read from their
// header: the parser copes with them, and their narrative renders.
func TestCCDA(t *testing.T) {
	files, _ := filepath.Glob(filepath.Join(ccdaFixtures, "*.xml"))
	if len(files) == 0 {
		t.Fatalf("no C-CDA sample in %s", ccdaFixtures)
	}
	forEachEngine(t, func(t *testing.T, e *env) {
		for _, f := range files {
			data, err := os.ReadFile(f)
			if err != nil {
				t.Fatal(err)
			}
			h, err := cda.Parse(bytes.NewReader(data), 0)
			if err != nil {
				t.Fatalf("%s: %v", f, err)
			}
			d := doc{master: masterFor(f), contentType: "text/xml", data: data, typeCode: h.Code.Code,
				date: h.EffectiveTime.Time.Format(time.RFC3339), labels: []string{h.Confidentiality.Code}, format: "urn:asip:ci-sis:2010"}
			if len(h.ServiceEvents) > 0 && !h.ServiceEvents[0].Period.Low.IsZero() {
				d.start = h.ServiceEvents[0].Period.Low.Time.Format(time.RFC3339)
			}
			r := e.do(http.MethodPost, "", provideBundle(testSubject, d))
			if r.status != http.StatusOK {
				t.Errorf("%s: %d\n%s", filepath.Base(f), r.status, diagnostics(r.json))
				continue
			}
			html, err := e.service.Narrative(t.Context(), str(entries(r.json)[1], "resource.id"))
			if err != nil || len(html) == 0 || strings.Contains(strings.ToLower(string(html)), "<script") {
				t.Errorf("%s: Narrative: %v", filepath.Base(f), err)
			}
		}
	})
}
