package terminology_test

import (
	"errors"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/terminology"
)

// sharedDir holds the national value sets, beside the checkout; they may
// not be copied into the tree.
const sharedDir = "../../../shared/terminology"

func loadShared(t *testing.T) *terminology.Catalog {
	t.Helper()
	if _, err := os.Stat(sharedDir); err != nil {
		t.Skipf("shared terminology not beside the checkout: %v", err)
	}
	c, err := terminology.Load(sharedDir)
	if err != nil {
		t.Fatalf("Load: %v", err)
	}
	return c
}

func TestLoadSharedValueSets(t *testing.T) {
	c := loadShared(t)
	tests := []struct {
		short, oid, file string
		concepts         int
	}{
		{"J01", "1.2.250.1.213.1.1.5.461", "JDV_J01_XdsAuthorSpecialty_CISIS", 396},
		{"J02", "1.2.250.1.213.1.1.5.466", "JDV_J02_XdsHealthcareFacilityTypeCode_CISIS", 69},
		{"J04", "1.2.250.1.213.1.1.5.467", "JDV_J04_XdsPracticeSettingCode_CISIS", 12},
		{"J07", "1.2.250.1.213.1.1.5.471", "JDV_J07_XdsTypeCode_CISIS", 114},
		{"J08", "1.2.250.1.213.1.1.5.463", "JDV_J08_XdsConfidentialityCode_CISIS", 6},
		{"J197", "1.2.250.1.213.1.1.5.692", "JDV_J197_XdsTypesIdentifiantsReferenceId_CISIS", 7},
		{"Profession", "1.2.250.1.213.1.1.5.109", "JDV_Profession_CISIS", 6},
	}
	if got := len(c.ValueSets()); got != len(tests) {
		t.Errorf("%d value sets loaded, want %d", got, len(tests))
	}
	for _, tt := range tests {
		t.Run(tt.short, func(t *testing.T) {
			vs, ok := c.ValueSet(tt.short)
			if !ok {
				t.Fatalf("ValueSet(%q) not found", tt.short)
			}
			if vs.OID != tt.oid || vs.Name != tt.file || len(vs.Concepts) != tt.concepts {
				t.Errorf("got OID %s name %s with %d concepts, want %s %s %d", vs.OID, vs.Name, len(vs.Concepts), tt.oid, tt.file, tt.concepts)
			}
			for _, id := range []string{tt.oid, "urn:oid:" + tt.oid, tt.file} {
				if other, ok := c.ValueSet(id); !ok || other != vs {
					t.Errorf("ValueSet(%q) does not find %s", id, tt.short)
				}
			}
		})
	}
}

func TestContainsAndDisplay(t *testing.T) {
	c := loadShared(t)
	const loinc = "2.16.840.1.113883.6.1"
	tests := []struct {
		valueSet, system, code string
		display                string // "" when not in the value set
	}{
		// The frequent type codes of domain/france.md §4.
		{"J07", loinc, "11488-4", "CR ou fiche de consultation ou de visite"},
		{"J07", loinc, "11502-2", "CR d'examens biologiques"},
		{"J07", loinc, "18748-4", "CR d'imagerie médicale"},
		{"J07", loinc, "34133-9", "Synthèse d'épisode de soins"},
		{"J07", loinc, "11490-0", "Lettre de liaison à la sortie d'un établissement de soins"},
		{"J07", loinc, "57833-6", "Prescription de produits de santé"},
		{"J07", loinc, "60593-1", "Dispensation médicamenteuse"},
		{"J07", loinc, "11369-6", "Historique des vaccinations"},
		{"J07", loinc, "87273-9", "Note de vaccination"},
		{"J07", loinc, "15507-7", "CR de passage aux urgences"},
		{"J07", loinc, "34874-8", "CR opératoire"},
		{"J07", loinc, "60591-5", "Synthèse médicale"},
		{"J07", "1.2.250.1.213.1.1.4.12", "DOCPAT01", "Synthèse déposée par le patient"},
		{"J07", "urn:oid:1.2.250.1.213.1.1.4.12", "DOCPAT09", "Document administratif déposé par le patient"},
		{"J07", "1.2.250.1.213.1.1.4.12", "DOCPAT10", ""},
		{"J07", "1.2.250.1.213.1.1.4.12", "11488-4", ""}, // right code, wrong system
		{"JDV_J07_XdsTypeCode_CISIS", loinc, "11488-4", "CR ou fiche de consultation ou de visite"},
		{"J08", "2.16.840.1.113883.5.25", "N", "Normal"},
		{"J08", "1.2.250.1.213.1.1.4.13", "MASQUE_PS", "Masqué aux professionnels de santé"},
		{"J08", "1.2.250.1.213.1.1.4.13", "INVISIBLE_PATIENT", "Non visible par le patient"},
		{"J02", "1.2.250.1.71.4.2.4", "SA01", "Etablissement public de santé"},
		{"J99", loinc, "11488-4", ""}, // unknown value set
	}
	for _, tt := range tests {
		got, ok := c.Display(tt.valueSet, tt.system, tt.code)
		if ok != (tt.display != "") || got != tt.display {
			t.Errorf("Display(%s, %s, %s) = %q, %v; want %q", tt.valueSet, tt.system, tt.code, got, ok, tt.display)
		}
		if c.Contains(tt.valueSet, tt.system, tt.code) != ok {
			t.Errorf("Contains(%s, %s, %s) disagrees with Display", tt.valueSet, tt.system, tt.code)
		}
	}
}

func TestParseSVSDates(t *testing.T) {
	const doc = `<?xml version="1.0" encoding="UTF-8"?>
<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008">
  <!-- a comment -->
  <ValueSet id="1.2.3" displayName="JDV_J99_Example_CISIS.tabs" dateValid="20200101000000" dateFin="" dateMaj="20241213120000" version="2">
    <ConceptList xml:lang="fr-FR">
      <Concept code="A" codeSystem="1.2.3.4" displayName="Ancien" dateValid="20100101000000" dateFin="20200101000000"/>
      <Concept code="B" codeSystem="1.2.3.4" displayName="Actuel" dateValid="2020-01-01T00:00:00+01:00"/>
    </ConceptList>
  </ValueSet>
</RetrieveValueSetResponse>`
	vs, err := terminology.ParseSVS(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("ParseSVS: %v", err)
	}
	if vs.ShortName != "J99" || vs.Version != "2" || !vs.ValidUntil.IsZero() ||
		!vs.ValidFrom.Equal(time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC)) || vs.Updated.Year() != 2024 {
		t.Errorf("value set = %+v", vs)
	}
	old, _ := vs.Lookup("1.2.3.4", "A")
	cur, _ := vs.Lookup("urn:oid:1.2.3.4", "B")
	tests := []struct {
		c      terminology.Concept
		at     time.Time
		active bool
	}{
		{old, time.Date(2015, 6, 1, 0, 0, 0, 0, time.UTC), true},
		{old, time.Date(2020, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{old, time.Date(2005, 1, 1, 0, 0, 0, 0, time.UTC), false},
		{cur, time.Date(2026, 1, 1, 0, 0, 0, 0, time.UTC), true},
		{cur, time.Date(2019, 12, 31, 0, 0, 0, 0, time.UTC), false},
		{terminology.Concept{}, time.Date(1900, 1, 1, 0, 0, 0, 0, time.UTC), true},
	}
	for _, tt := range tests {
		if got := tt.c.ActiveAt(tt.at); got != tt.active {
			t.Errorf("%s ActiveAt(%s) = %v, want %v", tt.c.Code, tt.at.Format(time.DateOnly), got, tt.active)
		}
	}
}

func TestParseSVSErrors(t *testing.T) {
	const head = `<?xml version="1.0" encoding="UTF-8"?>` + "\n"
	tests := []struct {
		name, doc string
		line      int
		message   string
	}{
		{"empty", "", 1, "empty document"},
		{"not XML", "hello", 1, "unexpected text"},
		{"wrong root", head + `<ValueSet xmlns="urn:ihe:iti:svs:2008" id="1"/>`, 2, "root element is ValueSet, want RetrieveValueSetResponse"},
		{"wrong namespace", head + `<RetrieveValueSetResponse><ValueSet id="1"/></RetrieveValueSetResponse>`, 2, "in namespace urn:ihe:iti:svs:2008"},
		{"DTD with an external entity", head + `<!DOCTYPE r [<!ENTITY x SYSTEM "file:///etc/passwd">]>` + "\n" +
			`<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008">&x;</RetrieveValueSetResponse>`, 2, "DTD"},
		{"undefined entity", head + `<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008">` + "\n" +
			`<ValueSet id="1"><ConceptList><Concept code="&x;" codeSystem="1"/></ConceptList></ValueSet></RetrieveValueSetResponse>`, 3, "invalid character entity &x;"},
		{"no ValueSet", head + `<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"></RetrieveValueSetResponse>`, 2, "no ValueSet"},
		{"no id", head + `<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet><ConceptList/></ValueSet></RetrieveValueSetResponse>`, 2, "ValueSet has no id"},
		{"no ConceptList", head + `<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet id="1.2"/></RetrieveValueSetResponse>`, 2, "ValueSet 1.2 has no ConceptList"},
		{"Concept without codeSystem", head + `<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet id="1">` + "\n" +
			`<ConceptList>` + "\n" + `<Concept code="A"/></ConceptList></ValueSet></RetrieveValueSetResponse>`, 4, `Concept without code or codeSystem (code="A" codeSystem="")`},
		{"duplicate concept", head + `<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet id="1"><ConceptList>` + "\n" +
			`<Concept code="A" codeSystem="1"/>` + "\n" + `<Concept code="A" codeSystem="1"/></ConceptList></ValueSet></RetrieveValueSetResponse>`, 4, "concept 1|A appears twice"},
		{"bad date", head + `<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet id="1" dateMaj="2024-13"><ConceptList/></ValueSet></RetrieveValueSetResponse>`, 2, `dateMaj="2024-13" is not a date`},
		{"stray element in ConceptList", head + `<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet id="1"><ConceptList><Code/></ConceptList></ValueSet></RetrieveValueSetResponse>`, 2, "unexpected element Code in ConceptList"},
		{"unclosed", head + `<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008">` + "\n" + `<ValueSet id="1"><ConceptList>` + "\n", 4, "unexpected EOF"},
		{"mismatched tags", head + `<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet id="1">` + "\n" + `</ConceptList>`, 3, "element <ValueSet> closed by </ConceptList>"},
		{"second root", head + `<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet id="1"><ConceptList/></ValueSet></RetrieveValueSetResponse>` + "\n" +
			`<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"/>`, 3, "element RetrieveValueSetResponse after the root element"},
		{"latin-1 declared", `<?xml version="1.0" encoding="ISO-8859-1"?><RetrieveValueSetResponse/>`, 1, "ISO-8859-1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := terminology.ParseSVS(strings.NewReader(tt.doc))
			var pe *terminology.ParseError
			if !errors.As(err, &pe) {
				t.Fatalf("error = %v (%T), want a *ParseError", err, err)
			}
			if pe.Line != tt.line || !strings.Contains(pe.Msg, tt.message) {
				t.Errorf("error = %q (line %d), want line %d and a message containing %q", err, pe.Line, tt.line, tt.message)
			}
		})
	}
}

func TestLoadErrors(t *testing.T) {
	valid := func(oid, name string) string {
		return `<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008"><ValueSet id="` + oid + `" displayName="` + name +
			`"><ConceptList><Concept code="A" codeSystem="1"/></ConceptList></ValueSet></RetrieveValueSetResponse>`
	}
	tests := []struct {
		name    string
		files   map[string]string
		message string
	}{
		{"no files", map[string]string{"notes.txt": "x"}, "no *.xml value set in"},
		{"malformed file", map[string]string{
			"JDV_J07_Ok.xml":     valid("1.1", "JDV_J07_Ok"),
			"JDV_J08_Broken.xml": "<RetrieveValueSetResponse xmlns=\"urn:ihe:iti:svs:2008\">\n<ValueSet id=\"1.2\">\n<ConceptList>\n<Concept code=\"A\" codeSystem=\"1\">\n</ValueSet>",
		}, "JDV_J08_Broken.xml:5: element <Concept> closed by </ValueSet>"},
		{"same OID twice", map[string]string{"a.xml": valid("1.1", "JDV_J07_A"), "b.xml": valid("1.1", "JDV_J08_B")},
			`b.xml: value set identifier "1.1" is also used by value set 1.1`},
		{"same short name twice", map[string]string{"a.xml": valid("1.1", "JDV_J07_A"), "b.xml": valid("1.2", "JDV_J07_B")},
			`b.xml: value set identifier "J07" is also used by value set 1.1`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			dir := t.TempDir()
			for name, content := range tt.files {
				if err := os.WriteFile(filepath.Join(dir, name), []byte(content), 0o644); err != nil {
					t.Fatal(err)
				}
			}
			_, err := terminology.Load(dir)
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("Load error = %v, want one containing %q", err, tt.message)
			}
		})
	}
}

func TestLoadMissingDirectory(t *testing.T) {
	_, err := terminology.Load(filepath.Join(t.TempDir(), "absent"))
	if err == nil || !strings.Contains(err.Error(), "no *.xml value set") {
		t.Errorf("Load error = %v, want a clear error", err)
	}
}

func TestParseSVSSkipsUnknownElements(t *testing.T) {
	const doc = `<RetrieveValueSetResponse xmlns="urn:ihe:iti:svs:2008" xmlns:x="urn:example">
  <x:Extension><x:Deep a="1">text</x:Deep></x:Extension>
  <ValueSet id="1.2.3" displayName="Local codes">
    <Purpose>Tests</Purpose>
    <ConceptList xml:lang="fr-FR"><Concept code="A" codeSystem="9.9" displayName="Un"/></ConceptList>
    <ConceptList xml:lang="en-US"><Concept code="B" codeSystem="9.9" displayName="Two"/></ConceptList>
  </ValueSet>
  <?trailing processing-instruction?>
</RetrieveValueSetResponse>
<!-- trailing comment -->
`
	vs, err := terminology.ParseSVS(strings.NewReader(doc))
	if err != nil {
		t.Fatalf("ParseSVS: %v", err)
	}
	if vs.Name != "Local codes" || vs.ShortName != "Local codes" || len(vs.Concepts) != 2 {
		t.Errorf("value set = %+v, want 2 concepts named %q", vs, "Local codes")
	}
	if c, ok := vs.Lookup("9.9", "B"); !ok || c.DisplayName != "Two" {
		t.Errorf("Lookup(9.9, B) = %+v, %v", c, ok)
	}
}

type failingReader struct{}

func (failingReader) Read([]byte) (int, error) { return 0, errors.New("disk on fire") }

func TestParseSVSReadError(t *testing.T) {
	_, err := terminology.ParseSVS(failingReader{})
	var pe *terminology.ParseError
	if !errors.As(err, &pe) || !strings.Contains(err.Error(), "disk on fire") {
		t.Errorf("error = %v, want a *ParseError carrying the read error", err)
	}
}
