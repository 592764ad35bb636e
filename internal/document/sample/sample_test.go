package sample_test

import (
	"bytes"
	"regexp"
	"strconv"
	"strings"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/cda"
	"github.com/carnet-sante/carnet/internal/document/sample"
)

// TestCDA checks that a sample CDA is a document the strict parser
// accepts, whose header says what was asked, and whose text is escaped.
func TestCDA(t *testing.T) {
	date := time.Date(2025, 3, 1, 10, 0, 0, 0, time.FixedZone("", 3600))
	data := sample.CDA(sample.Header{
		ID: "0f8fad5b-d9cb-469f-a165-70867728950e", TypeCode: "11488-4", TypeName: "CR de consultation", Title: "Consultation <test> & suivi",
		Date: date, Start: date.Add(-time.Hour), Confidentiality: "R",
		INSSystem: "1.2.250.1.213.1.4.11", INS: "279035121518989",
		BirthName: "D'ARC", GivenName: "Jeanne", Sex: "F", BirthDate: "19790315", Birthplace: "51215",
		AuthorIdNatPS: "810101201234", AuthorGiven: "Jean", AuthorFamily: "DUPONT", Organization: "Cabinet \"Le Parc\"",
		Sections: []sample.Section{{Title: "Conclusion", Paragraphs: []string{"Rien à signaler <ok>."}}},
	})
	d, err := cda.Parse(bytes.NewReader(data), 0)
	if err != nil {
		t.Fatalf("Parse: %v\n%s", err, data)
	}
	if d.Code.Code != "11488-4" || d.Title != "Consultation <test> & suivi" || d.Confidentiality.Code != "R" ||
		len(d.Patient.INS) != 1 || d.Patient.INS[0].NIR.String() != "279035121518989" || d.Authors[0].IdNatPS() != "810101201234" ||
		!d.EffectiveTime.Time.Equal(date) {
		t.Errorf("header: %+v", d)
	}
	html, err := cda.RenderHTML(d)
	if err != nil || !strings.Contains(string(html), "Rien à signaler &lt;ok&gt;.") {
		t.Errorf("RenderHTML = %q, %v", html, err)
	}
}

// TestPDF checks the structure of a sample PDF: header, objects at the
// offsets the cross-reference table gives, trailer, and French text in
// WinAnsi.
func TestPDF(t *testing.T) {
	data := sample.PDF("Compte rendu (test)", []string{"Résultat : normal – œdème absent", "Ω"})
	if !bytes.HasPrefix(data, []byte("%PDF-1.4\n")) || !bytes.HasSuffix(data, []byte("%%EOF\n")) {
		t.Fatalf("not a PDF:\n%s", data)
	}
	startxref := regexp.MustCompile(`startxref\n(\d+)\n`).FindSubmatch(data)
	xref, _ := strconv.Atoi(string(startxref[1]))
	if !bytes.HasPrefix(data[xref:], []byte("xref\n0 6\n")) {
		t.Fatalf("startxref %d does not point at the xref table", xref)
	}
	for i, m := range regexp.MustCompile(`(\d{10}) 00000 n `).FindAllSubmatch(data[xref:], -1) {
		off, _ := strconv.Atoi(string(m[1]))
		if want := strconv.Itoa(i+1) + " 0 obj"; !bytes.HasPrefix(data[off:], []byte(want)) {
			t.Errorf("object %d is not at offset %d", i+1, off)
		}
	}
	if !bytes.Contains(data, []byte(`(Compte rendu \(test\))`)) || !bytes.Contains(data, []byte(`R\351sultat : normal \226 \234d\350me absent`)) || !bytes.Contains(data, []byte("(?)")) {
		t.Errorf("text not encoded as expected:\n%s", data)
	}
}
