package cda_test

import (
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/cda"
)

// agreeing is the metadata a DocumentReference for the French fixture
// would carry.
var agreeing = cda.Metadata{
	Patient: cda.Identifier{System: "urn:oid:1.2.250.1.213.1.4.11", Value: "279035121518989"},
	Type:    cda.Coding{System: "http://loinc.org", Code: "11488-4"},
	Authors: []cda.Identifier{
		{System: "urn:oid:1.2.250.1.71.4.2.1", Value: "899999999999"},
		{System: "urn:oid:1.2.250.1.71.4.2.1", Value: "810002909371"},
	},
	SecurityLabels: []cda.Coding{
		{System: "urn:oid:1.2.250.1.213.1.1.4.13", Code: "MASQUE_PS"},
		{System: "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", Code: "N"},
	},
	PeriodStart: "2024-01-15T09:00:00Z",
	PeriodEnd:   "2024-01-15T10:30:00+01:00",
	Date:        "2024-01-15T10:30:00+01:00",
}

func TestCheck(t *testing.T) {
	d := parse(t, readFile(t, frenchFixture))
	for _, tt := range []struct {
		name   string
		change func(m *cda.Metadata)
		want   []string // Field of each mismatch, in order
	}{
		{"agreeing", func(*cda.Metadata) {}, nil},
		{"nothing given", func(m *cda.Metadata) { *m = cda.Metadata{} }, nil},
		{"other INS value", func(m *cda.Metadata) { m.Patient.Value = "180015121512345" }, []string{"DocumentReference.subject"}},
		{"INS under another OID", func(m *cda.Metadata) { m.Patient.System = "urn:oid:1.2.250.1.213.1.4.8" }, []string{"DocumentReference.subject"}},
		{"INS as a bare OID", func(m *cda.Metadata) { m.Patient.System = "1.2.250.1.213.1.4.11" }, nil},
		{"local patient id agreeing", func(m *cda.Metadata) {
			m.Patient = cda.Identifier{System: "urn:oid:1.2.250.1.999.1.2", Value: "IPP-0042"}
		}, nil},
		{"local patient id differing", func(m *cda.Metadata) {
			m.Patient = cda.Identifier{System: "urn:oid:1.2.250.1.999.1.2", Value: "IPP-0043"}
		}, []string{"DocumentReference.subject"}},
		{"patient id under a system the header lacks", func(m *cda.Metadata) {
			m.Patient = cda.Identifier{System: "urn:oid:1.2.3.4", Value: "X"}
		}, nil},
		{"other type code", func(m *cda.Metadata) { m.Type.Code = "11502-2" }, []string{"DocumentReference.type"}},
		{"type under another system", func(m *cda.Metadata) { m.Type.System = "http://snomed.info/sct" }, []string{"DocumentReference.type"}},
		{"type as urn:oid", func(m *cda.Metadata) { m.Type.System = "urn:oid:2.16.840.1.113883.6.1" }, nil},
		{"no author in common", func(m *cda.Metadata) {
			m.Authors = []cda.Identifier{{System: "urn:oid:1.2.250.1.71.4.2.1", Value: "810000000001"}}
		}, []string{"DocumentReference.author"}},
		{"author as bare RPPS", func(m *cda.Metadata) {
			m.Authors = []cda.Identifier{{System: "https://rpps.esante.gouv.fr", Value: "10002909371"}}
		}, nil},
		{"authors under other systems only", func(m *cda.Metadata) {
			m.Authors = []cda.Identifier{{System: "urn:oid:1.2.3", Value: "810000000001"}}
		}, nil},
		{"confidentiality missing from the labels", func(m *cda.Metadata) {
			m.SecurityLabels = m.SecurityLabels[:1]
		}, []string{"DocumentReference.securityLabel"}},
		{"other confidentiality", func(m *cda.Metadata) {
			m.SecurityLabels = []cda.Coding{{System: "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", Code: "R"}}
		}, []string{"DocumentReference.securityLabel"}},
		{"date to the day", func(m *cda.Metadata) { m.Date = "2024-01-15" }, nil},
		{"date to the month", func(m *cda.Metadata) { m.Date = "2024-01" }, nil},
		{"other day", func(m *cda.Metadata) { m.Date = "2024-01-16" }, []string{"DocumentReference.date"}},
		{"same instant, other offset", func(m *cda.Metadata) { m.Date = "2024-01-15T09:30:00.000Z" }, nil},
		{"other minute", func(m *cda.Metadata) { m.Date = "2024-01-15T10:31:00+01:00" }, []string{"DocumentReference.date"}},
		{"not a FHIR date", func(m *cda.Metadata) { m.Date = "15/01/2024" }, []string{"DocumentReference.date"}},
		{"period start differing", func(m *cda.Metadata) { m.PeriodStart = "2024-01-14" }, []string{"DocumentReference.context.period.start"}},
		{"period end differing", func(m *cda.Metadata) { m.PeriodEnd = "2024-01-15T11:00:00+01:00" }, []string{"DocumentReference.context.period.end"}},
		{"everything differing", func(m *cda.Metadata) {
			m.Patient.Value = "180015121512345"
			m.Type.Code = "11502-2"
			m.Authors = []cda.Identifier{{System: "urn:oid:1.2.250.1.71.4.2.1", Value: "810000000001"}}
			m.SecurityLabels = []cda.Coding{{System: "urn:oid:2.16.840.1.113883.5.25", Code: "V"}}
			m.Date, m.PeriodStart, m.PeriodEnd = "2023", "2023", "2023"
		}, []string{
			"DocumentReference.subject", "DocumentReference.type", "DocumentReference.author",
			"DocumentReference.securityLabel", "DocumentReference.date",
			"DocumentReference.context.period.start", "DocumentReference.context.period.end",
		}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			m := agreeing
			m.Authors = append([]cda.Identifier(nil), agreeing.Authors...)
			m.SecurityLabels = append([]cda.Coding(nil), agreeing.SecurityLabels...)
			tt.change(&m)
			var got []string
			for _, mm := range d.Check(m) {
				got = append(got, mm.Field)
			}
			if strings.Join(got, ",") != strings.Join(tt.want, ",") {
				t.Errorf("mismatches %v, want %v", got, tt.want)
			}
		})
	}
}

func TestMismatchValues(t *testing.T) {
	d := parse(t, readFile(t, frenchFixture))
	m := agreeing
	m.Patient.Value = "180015121512345"
	m.Type.Code = "11502-2"
	m.Date = "15/01/2024"
	got := d.Check(m)
	if len(got) != 3 {
		t.Fatalf("Check = %+v, want 3 mismatches", got)
	}
	ins, typ, date := got[0], got[1], got[2]

	if ins.Header != "ClinicalDocument/recordTarget/patientRole/id" || !ins.Personal ||
		ins.Metadata != "urn:oid:1.2.250.1.213.1.4.11|180015121512345" ||
		ins.Document != "urn:oid:1.2.250.1.213.1.4.11|279035121518989" {
		t.Errorf("INS mismatch = %+v", ins)
	}
	if s := ins.String(); strings.Contains(s, "279035121518989") || strings.Contains(s, "180015121512345") {
		t.Errorf("String() of a personal mismatch quotes the values: %s", s)
	}
	want := "DocumentReference.type (http://loinc.org|11502-2) does not match ClinicalDocument/code (2.16.840.1.113883.6.1|11488-4)"
	if typ.String() != want || typ.Header != "ClinicalDocument/code" {
		t.Errorf("type mismatch = %q, want %q", typ.String(), want)
	}
	if date.Reason == "" || !strings.HasPrefix(date.String(), "DocumentReference.date: invalid FHIR dateTime") {
		t.Errorf("date mismatch = %q", date.String())
	}
}

// TestCheckCCDA: a US document has none of the French identifiers, so only
// type, confidentiality and dates can disagree.
func TestCheckCCDA(t *testing.T) {
	d := parse(t, readFile(t, ccdaDir+"/Consultation_Note.xml"))
	got := d.Check(agreeing)
	var fields []string
	for _, m := range got {
		fields = append(fields, m.Field)
	}
	want := "DocumentReference.date" // 2013 document, 2024 metadata; no serviceEvent
	if strings.Join(fields, ",") != want {
		t.Errorf("mismatches %v, want %s", fields, want)
	}
}
