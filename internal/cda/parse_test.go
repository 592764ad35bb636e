package cda_test

import (
	"bytes"
	"errors"
	"io"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"testing/iotest"
	"time"

	"github.com/carnet-sante/carnet/internal/cda"
	"github.com/carnet-sante/carnet/internal/ins"
)

// ccdaDir holds the US C-CDA R2.1 samples shared by the project.
const ccdaDir = "../../../shared/fixtures/ccda"

const frenchFixture = "testdata/fr-cr-consultation.xml"

func readFile(t testing.TB, name string) string {
	t.Helper()
	b, err := os.ReadFile(name)
	if err != nil {
		t.Fatal(err)
	}
	return string(b)
}

// edit returns s with each old→new replacement applied once; the test
// fails if an old string is missing, so a fixture change cannot silently
// make a case pass.
func edit(t testing.TB, s string, pairs ...string) string {
	t.Helper()
	for i := 0; i < len(pairs); i += 2 {
		if !strings.Contains(s, pairs[i]) {
			t.Fatalf("fixture has no %q", pairs[i])
		}
		s = strings.Replace(s, pairs[i], pairs[i+1], 1)
	}
	return s
}

// withBody replaces the structured body of the French fixture.
func withBody(t testing.TB, body string) string {
	t.Helper()
	s := readFile(t, frenchFixture)
	i, j := strings.Index(s, "<structuredBody>"), strings.Index(s, "</structuredBody>")
	if i < 0 || j < 0 {
		t.Fatal("fixture has no structuredBody")
	}
	return s[:i] + body + s[j+len("</structuredBody>"):]
}

func parse(t testing.TB, doc string) *cda.Document {
	t.Helper()
	d, err := cda.Parse(strings.NewReader(doc), 0)
	if err != nil {
		t.Fatalf("Parse: %v", err)
	}
	return d
}

func TestParseFrenchHeader(t *testing.T) {
	d := parse(t, readFile(t, frenchFixture))

	check := func(what string, got, want any) {
		t.Helper()
		if got != want {
			t.Errorf("%s = %#v, want %#v", what, got, want)
		}
	}
	check("ID", d.ID, cda.II{Root: "1.2.250.1.999.1.1.1", Extension: "CR-2024-0001"})
	check("Code.Code", d.Code.Code, "11488-4")
	check("Code.CodeSystem", d.Code.CodeSystem, cda.OIDLOINC)
	check("Code.DisplayName", d.Code.DisplayName, "CR de consultation")
	check("Title", d.Title, "Compte rendu de consultation")
	check("EffectiveTime", d.EffectiveTime.String(), "20240115103000+0100")
	check("EffectiveTime.Precision", d.EffectiveTime.Precision, cda.PrecisionSecond)
	check("EffectiveTime instant", d.EffectiveTime.Time.UTC(), time.Date(2024, 1, 15, 9, 30, 0, 0, time.UTC))
	check("Confidentiality", d.Confidentiality.Code+"@"+d.Confidentiality.CodeSystem, "N@"+cda.OIDConfidentiality)
	check("Language", d.Language, "fr-FR")
	check("SetID", d.SetID, cda.II{Root: "1.2.250.1.999.1.1.2", Extension: "SET-2024-0001"})
	check("Version", d.Version, 1)

	p := d.Patient
	check("patient ids", len(p.IDs), 2)
	check("INS count", len(p.INS), 1)
	check("INS kind", p.INS[0].Kind, ins.KindNIRDemo)
	check("INS value", p.INS[0].NIR.String(), "279035121518989")
	check("Sex", p.Sex, ins.SexFemale)
	check("BirthTime", p.BirthTime.String(), "19790315")
	check("Birthplace", p.Birthplace, "51215")
	family, given := p.UsedName()
	check("used family name", family, "DURAND")
	check("used given name", given, "Mia")
	check("GivenNames", strings.Join(p.GivenNames(), "|"), "Marie|Marie Claire")
	check("Traits", p.Traits(), ins.Traits{
		BirthName: "MARTIN", BirthGivenNames: "Marie Claire", FirstGivenName: "Marie",
		BirthDate: "1979-03-15", Sex: ins.SexFemale, Birthplace: "51215",
	})
	if err := p.Traits().Validate(); err != nil {
		t.Errorf("Traits().Validate: %v", err)
	}

	check("authors", len(d.Authors), 2)
	a := d.Authors[0]
	check("author IdNatPS", a.IdNatPS(), "810002909371")
	check("author code", a.Code.Code, "G15_10/SM54")
	check("author time", a.Time.String(), "20240115103000+0100")
	check("author family", a.Names[0].Family[0].Value, "DUPONT")
	check("author prefix", a.Names[0].Prefix[0], cda.NamePart{Value: "DR", Qualifier: "AC"})
	check("author organization", a.Organization.Name, "Cabinet médical du Parc")
	check("device IdNatPS", d.Authors[1].IdNatPS(), "")
	check("device", d.Authors[1].Device, "Logiciel de cabinet de test")

	check("custodian", d.Custodian.Name, "Cabinet médical du Parc")
	check("custodian id", d.Custodian.IDs[0].Extension, "3999999999000001")

	check("service events", len(d.ServiceEvents), 1)
	se := d.ServiceEvents[0]
	check("service low", se.Period.Low.String(), "20240115100000+0100")
	check("service high", se.Period.High.String(), "20240115103000+0100")
	check("practice setting", se.PracticeSetting.Code+"@"+se.PracticeSetting.CodeSystem, "AMBULATOIRE@1.2.250.1.213.1.1.4.9")

	if d.Encounter == nil {
		t.Fatal("Encounter is nil")
	}
	check("encounter code", d.Encounter.Code.Code, "AMB")
	check("facility type", d.Encounter.FacilityType.Code, "SA07")
	check("encounter low", d.Encounter.Period.Low.String(), "20240115100000+0100")

	check("body kind", d.Body.Kind, cda.BodyStructured)
	check("sections", len(d.Body.Sections), 2)
	check("section 1 title", d.Body.Sections[0].Title, "Motif de consultation")
	check("section 1 code", d.Body.Sections[0].Code.Code, "29299-5")
	check("nested section title", d.Body.Sections[1].Sections[0].Title, "Conclusion")
}

// TestTraitsGivenNameStyles covers the two ways producers write the list
// of birth first names.
func TestTraitsGivenNameStyles(t *testing.T) {
	base := readFile(t, frenchFixture)
	const names = `<given qualifier="BR">Marie</given>
          <given>Marie Claire</given>`
	for _, tt := range []struct {
		name, given, want string
	}{
		{"whole list unqualified", `<given qualifier="BR">Marie</given><given>Marie Claire</given>`, "Marie Claire"},
		{"first then others", `<given qualifier="BR">Marie</given><given>Claire</given><given>Anne</given>`, "Marie Claire Anne"},
		{"only the first", `<given qualifier="BR">Marie</given>`, "Marie"},
		{"used name left out", `<given qualifier="CL">Mia</given><given qualifier="BR">Marie</given><given>Claire</given>`, "Marie Claire"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := parse(t, edit(t, base, names, tt.given))
			if got := d.Patient.Traits().BirthGivenNames; got != tt.want {
				t.Errorf("BirthGivenNames = %q, want %q", got, tt.want)
			}
		})
	}
}

func TestParseCCDAFixtures(t *testing.T) {
	files, err := filepath.Glob(filepath.Join(ccdaDir, "*.xml"))
	if err != nil || len(files) == 0 {
		t.Fatalf("no fixtures in %s (%v)", ccdaDir, err)
	}
	for _, f := range files {
		t.Run(filepath.Base(f), func(t *testing.T) {
			d := parse(t, readFile(t, f))
			if d.Code.CodeSystem != cda.OIDLOINC || d.Code.Code == "" {
				t.Errorf("Code = %+v, want a LOINC code", d.Code)
			}
			if d.EffectiveTime.IsZero() || len(d.Authors) == 0 || len(d.Patient.IDs) == 0 {
				t.Errorf("header incomplete: effectiveTime %v, %d authors, %d patient ids",
					d.EffectiveTime, len(d.Authors), len(d.Patient.IDs))
			}
			if len(d.Patient.INS) != 0 {
				t.Errorf("a US document has no INS, got %d", len(d.Patient.INS))
			}
			if d.Body.Kind != cda.BodyStructured || len(d.Body.Sections) == 0 {
				t.Errorf("body kind %v with %d sections, want a structured body", d.Body.Kind, len(d.Body.Sections))
			}
			html, err := cda.RenderHTML(d)
			if err != nil {
				t.Fatalf("RenderHTML: %v", err)
			}
			assertSafeHTML(t, string(html))
		})
	}
	// Spot checks on one sample.
	d := parse(t, readFile(t, filepath.Join(ccdaDir, "Consultation_Note.xml")))
	if got := d.Patient.Traits().BirthName; got != "Everywoman" {
		t.Errorf("BirthName = %q, want Everywoman (family qualifier BR)", got)
	}
	if got := d.EffectiveTime.String(); got != "201308010500-0800" {
		t.Errorf("EffectiveTime = %q", got)
	}
	if d.Patient.Sex != ins.SexFemale || d.Patient.BirthTime.String() != "19750501" {
		t.Errorf("sex %v, birth %v", d.Patient.Sex, d.Patient.BirthTime)
	}
}

func TestParseNonXMLBody(t *testing.T) {
	pdf := "%PDF-1.4\n% synthetic test file, not a real PDF body\n%%EOF\n"
	for _, tt := range []struct {
		name, body, mediaType, data string
	}{
		{"PDF in base64, wrapped", `<nonXMLBody><text mediaType="application/pdf" representation="B64">
			JVBERi0xLjQKJSBzeW50aGV0aWMgdGVzdCBmaWxlLCBub3QgYSByZWFsIFBERiBi
			b2R5CiUlRU9GCg==
		</text></nonXMLBody>`, "application/pdf", pdf},
		{"inline text, default media type", `<nonXMLBody><text>Compte rendu &amp; suite</text></nonXMLBody>`, "text/plain", "Compte rendu & suite"},
		{"text in base64", `<nonXMLBody><text mediaType="text/plain" representation="B64">w6lsw6ltZW50</text></nonXMLBody>`, "text/plain", "élément"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d := parse(t, withBody(t, tt.body))
			if d.Body.Kind != cda.BodyNonXML || d.Body.MediaType != tt.mediaType || string(d.Body.Data) != tt.data {
				t.Errorf("body = kind %v, %q, %q; want non-XML %q, %q", d.Body.Kind, d.Body.MediaType, d.Body.Data, tt.mediaType, tt.data)
			}
		})
	}
}

func TestParseByteOrderMark(t *testing.T) {
	d := parse(t, "\ufeff"+readFile(t, frenchFixture))
	if d.Title != "Compte rendu de consultation" {
		t.Errorf("Title = %q", d.Title)
	}
}

func TestParseLatin1(t *testing.T) {
	doc := edit(t, readFile(t, frenchFixture), `encoding="UTF-8"`, `encoding="ISO-8859-1"`)
	var latin1 bytes.Buffer
	for _, r := range doc {
		latin1.WriteByte(byte(r)) // the fixture is all in Latin-1's range
	}
	d, err := cda.Parse(&latin1, 0)
	if err != nil {
		t.Fatal(err)
	}
	if d.Custodian.Name != "Cabinet médical du Parc" {
		t.Errorf("custodian = %q", d.Custodian.Name)
	}
}

func TestParseErrors(t *testing.T) {
	fr := readFile(t, frenchFixture)
	deep := func(n int, open, close string) string {
		return strings.Repeat(open, n) + strings.Repeat(close, n)
	}
	for _, tt := range []struct {
		name  string
		doc   string
		limit int64
		err   error
		msg   string // part of the message
	}{
		{"empty", "", 0, cda.ErrNotXML, "empty input"},
		{"not XML", "%PDF-1.4 binary", 0, cda.ErrNotXML, "text before the root element"},
		{"JSON", `{"resourceType":"Bundle"}`, 0, cda.ErrNotXML, "text before the root element"},
		{"truncated", fr[:len(fr)/2], 0, cda.ErrNotXML, "unexpected EOF"},
		{"mismatched tags", edit(t, fr, "</title>", "</titre>"), 0, cda.ErrNotXML, "line 16: element <title> closed by </titre>"},
		{"undeclared entity", edit(t, fr, "<title>Compte", "<title>&nbsp;Compte"), 0, cda.ErrNotXML, "entity"},
		{"content after root", fr + "<ClinicalDocument/>", 0, cda.ErrNotXML, "after the end of the root element"},
		{"non-CDA root", `<?xml version="1.0"?><Bundle xmlns="http://hl7.org/fhir"/>`, 0, cda.ErrNotCDA, "root element is {http://hl7.org/fhir}Bundle"},
		{"no namespace", `<ClinicalDocument/>`, 0, cda.ErrNotCDA, "root element is ClinicalDocument, want ClinicalDocument in namespace urn:hl7-org:v3"},
		{"DOCTYPE", `<?xml version="1.0"?><!DOCTYPE ClinicalDocument><ClinicalDocument xmlns="urn:hl7-org:v3"/>`, 0, cda.ErrForbidden, "<!DOCTYPE"},
		{"XXE", `<?xml version="1.0"?>
<!DOCTYPE foo [<!ENTITY xxe SYSTEM "file:///etc/passwd">]>
<ClinicalDocument xmlns="urn:hl7-org:v3"><title>&xxe;</title></ClinicalDocument>`, 0, cda.ErrForbidden, "line 2"},
		{"billion laughs", `<!DOCTYPE lolz [<!ENTITY lol "lol"><!ENTITY lol2 "&lol;&lol;&lol;">]><ClinicalDocument xmlns="urn:hl7-org:v3">&lol2;</ClinicalDocument>`, 0, cda.ErrForbidden, ""},
		{"oversize", fr, 1000, cda.ErrTooLarge, "larger than 1000 bytes"},
		{"deep nesting", withBody(t, `<structuredBody><component><section><text>`+deep(10000, "<content>", "</content>")+`</text></section></component></structuredBody>`), 0, cda.ErrTooDeep, "more than 128 levels"},
		{"deep nesting in a skipped entry", withBody(t, `<structuredBody><component><section><entry>`+deep(10000, "<act>", "</act>")+`</entry></section></component></structuredBody>`), 0, cda.ErrTooDeep, "more than 128 levels"},
		{"too many elements", withBody(t, `<structuredBody><component><section><text>`+strings.Repeat("<br/>", 300_000)+`</text></section></component></structuredBody>`), 0, cda.ErrTooLarge, "more than 250000"},
		{"unsupported encoding", edit(t, fr, `encoding="UTF-8"`, `encoding="EBCDIC"`), 0, cda.ErrNotXML, `unsupported encoding "EBCDIC"`},
		{"missing id", edit(t, fr, `<id root="1.2.250.1.999.1.1.1" extension="CR-2024-0001"/>`, ""), 0, cda.ErrHeader, "ClinicalDocument: missing id"},
		{"id without root", edit(t, fr, `<id root="1.2.250.1.999.1.1.1" extension="CR-2024-0001"/>`, `<id nullFlavor="NI"/>`), 0, cda.ErrHeader, "the document id needs a root"},
		{"missing effectiveTime", edit(t, fr, `<effectiveTime value="20240115103000+0100"/>`, ""), 0, cda.ErrHeader, "missing effectiveTime"},
		{"null effectiveTime", edit(t, fr, `<effectiveTime value="20240115103000+0100"/>`, `<effectiveTime nullFlavor="UNK"/>`), 0, cda.ErrHeader, "the document date is required"},
		{"bad effectiveTime", edit(t, fr, `<effectiveTime value="20240115103000+0100"/>`, `<effectiveTime value="2024-01-15"/>`), 0, cda.ErrHeader, "line 17: ClinicalDocument/effectiveTime: invalid HL7 time"},
		{"impossible date", edit(t, fr, `<effectiveTime value="20240115103000+0100"/>`, `<effectiveTime value="20230229"/>`), 0, cda.ErrHeader, "out of range"},
		{"missing code", edit(t, fr, `<code code="11488-4" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC" displayName="CR de consultation"/>`, ""), 0, cda.ErrHeader, "missing code"},
		{"missing confidentiality", edit(t, fr, `<confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25" displayName="Normal"/>`, ""), 0, cda.ErrHeader, "missing confidentialityCode"},
		{"missing recordTarget", cutBetween(t, fr, "<recordTarget>", "</recordTarget>"), 0, cda.ErrHeader, "missing recordTarget/patientRole"},
		{"two recordTargets", edit(t, fr, "<recordTarget>", "<recordTarget><patientRole/></recordTarget><recordTarget>"), 0, cda.ErrHeader, "more than one recordTarget"},
		{"missing patient", cutBetween(t, fr, "<patient>", "</patient>"), 0, cda.ErrHeader, "ClinicalDocument/recordTarget/patientRole: missing patient"},
		{"INS with a bad key (production)", edit(t, fr, `root="1.2.250.1.213.1.4.11" extension="279035121518989"`, `root="1.2.250.1.213.1.4.8" extension="279035121518988"`), 0, cda.ErrHeader, "recordTarget/patientRole/id[1]: invalid INS"},
		{"INS malformed", edit(t, fr, `extension="279035121518989"`, `extension="27903512151"`), 0, cda.ErrHeader, "invalid INS"},
		{"bad birthTime", edit(t, fr, `<birthTime value="19790315"/>`, `<birthTime value="1979031"/>`), 0, cda.ErrHeader, "patient/birthTime"},
		{"missing author", cutAll(t, fr, "<author>", "</author>"), 0, cda.ErrHeader, "missing author"},
		{"author without assignedAuthor", edit(t, fr, "<author>", "<author/><author>"), 0, cda.ErrHeader, "missing assignedAuthor"},
		{"missing custodian", cutBetween(t, fr, "<custodian>", "</custodian>"), 0, cda.ErrHeader, "missing custodian"},
		{"bad versionNumber", edit(t, fr, `<versionNumber value="1"/>`, `<versionNumber value="one"/>`), 0, cda.ErrHeader, "versionNumber"},
		{"missing body", withBody(t, ""), 0, cda.ErrHeader, "missing structuredBody or nonXMLBody"},
		{"external reference", withBody(t, `<nonXMLBody><text mediaType="application/pdf"><reference value="http://example.org/doc.pdf"/></text></nonXMLBody>`), 0, cda.ErrHeader, "external file"},
		{"bad base64", withBody(t, `<nonXMLBody><text mediaType="application/pdf" representation="B64">JVBE*i0x</text></nonXMLBody>`), 0, cda.ErrHeader, "invalid base64 at byte 4"},
		{"compressed", withBody(t, `<nonXMLBody><text mediaType="application/pdf" representation="B64" compression="GZ">AAAA</text></nonXMLBody>`), 0, cda.ErrHeader, "compressed"},
	} {
		t.Run(tt.name, func(t *testing.T) {
			d, err := cda.Parse(strings.NewReader(tt.doc), tt.limit)
			if err == nil {
				t.Fatalf("Parse succeeded (%v), want %v", d.ID, tt.err)
			}
			if !errors.Is(err, tt.err) {
				t.Errorf("error %q, want %v", err, tt.err)
			}
			var pe *cda.ParseError
			if !errors.As(err, &pe) {
				t.Errorf("error %T, want *cda.ParseError", err)
			}
			if !strings.Contains(err.Error(), tt.msg) {
				t.Errorf("error %q, want it to contain %q", err, tt.msg)
			}
			if strings.Contains(err.Error(), "27903512151") {
				t.Errorf("error %q quotes the INS", err)
			}
		})
	}
}

func TestParseReadError(t *testing.T) {
	boom := errors.New("connection reset")
	_, err := cda.Parse(io.MultiReader(strings.NewReader("<?xml version=\"1.0\"?><Clin"), iotest.ErrReader(boom)), 0)
	var pe *cda.ParseError
	if !errors.Is(err, boom) || errors.As(err, &pe) {
		t.Errorf("error %v, want the reader's error, not a *ParseError", err)
	}
}

// TestParseToleratesDemoKey: a bad key under the demonstration OID is a
// warning, as the ins package's policy says.
func TestParseToleratesDemoKey(t *testing.T) {
	d := parse(t, edit(t, readFile(t, frenchFixture), `extension="279035121518989"`, `extension="279035121518988"`))
	if len(d.Patient.INS) != 1 || len(d.Patient.INS[0].Warnings) == 0 {
		t.Errorf("INS = %+v, want one with a warning", d.Patient.INS)
	}
}

// cutBetween removes the first element from its start tag to its end tag.
func cutBetween(t testing.TB, s, start, end string) string {
	t.Helper()
	i := strings.Index(s, start)
	j := strings.Index(s, end)
	if i < 0 || j < i {
		t.Fatalf("fixture has no %s…%s", start, end)
	}
	return s[:i] + s[j+len(end):]
}

// cutAll removes every element from start to end.
func cutAll(t testing.TB, s, start, end string) string {
	t.Helper()
	for strings.Contains(s, start) {
		s = cutBetween(t, s, start, end)
	}
	return s
}
