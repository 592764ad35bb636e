package document_test

import (
	"crypto/sha1"
	"fmt"
	"strconv"
	"strings"
	"time"

	"github.com/carnet-sante/carnet/internal/document/sample"
)

// Code systems of the test documents.
const (
	loinc        = "http://loinc.org"
	classSystem  = "https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument"
	confSystem   = "http://terminology.hl7.org/CodeSystem/v3-Confidentiality"
	visSystem    = "https://mos.esante.gouv.fr/NOS/TRE_A07-StatusVisibiliteDocument/FHIR/TRE-A07-StatusVisibiliteDocument"
	formatSystem = "https://mos.esante.gouv.fr/NOS/TRE_A11-IheFormatCode/FHIR/TRE-A11-IheFormatCode"
	cisisFormats = "https://mos.esante.gouv.fr/NOS/TRE_A06-FormatCodeComplementaire/FHIR/TRE-A06-FormatCodeComplementaire"
	sectorSystem = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
	settingSys   = "https://mos.esante.gouv.fr/NOS/TRE_A01-CadreExercice/FHIR/TRE-A01-CadreExercice"
	insTest      = "urn:oid:1.2.250.1.213.1.4.10"
	insDemo      = "urn:oid:1.2.250.1.213.1.4.11"
	insProd      = "urn:oid:1.2.250.1.213.1.4.8"
	mhdListTypes = "https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes"
)

// doc describes a document for the test builders; zero fields get
// defaults that make a valid PDSm deposit.
type doc struct {
	master      string // masterIdentifier value
	subject     string // subject reference
	contentType string
	data        []byte
	typeCode    string // LOINC
	class       string // TRE_A03
	labels      []string
	format      string // format code, of TRE_A11 (or TRE_A06 when urn:asip:…)
	date        string
	start, end  string // context.period
	event       string // CCAM code of context.event
	rpps        string // the author's RPPS
	setting     string // TRE_A01
	sector      string // TRE_R02
	replaces    string // DocumentReference id
	title       string
}

func (d doc) withDefaults() doc {
	def := func(s *string, v string) {
		if *s == "" {
			*s = v
		}
	}
	def(&d.contentType, "application/pdf")
	if d.data == nil {
		d.data = []byte("%PDF-1.4 test document " + d.master)
	}
	def(&d.typeCode, "11488-4")
	def(&d.class, "10")
	if d.labels == nil {
		d.labels = []string{"N"}
	}
	def(&d.format, "urn:ihe:iti:xds-sd:pdf:2008")
	def(&d.date, "2025-03-01T10:00:00+01:00")
	def(&d.start, "2025-03-01T08:00:00+01:00")
	def(&d.rpps, "10101201234")
	def(&d.setting, "ETABLISSEMENT")
	def(&d.sector, "SA01")
	def(&d.title, "Compte rendu "+d.master)
	return d
}

// sha1b64 is the MHD hash of bytes.
func sha1b64(data []byte) string {
	s := sha1.Sum(data)
	return b64(s[:])
}

// documentReference is the PDSm comprehensive DocumentReference of d,
// its bytes at url.
func (d doc) documentReference(url string) map[string]any {
	d = d.withDefaults()
	var labels []any
	for _, l := range d.labels {
		system := confSystem
		if len(l) > 1 {
			system = visSystem
		}
		labels = append(labels, map[string]any{"coding": []any{map[string]any{"system": system, "code": l}}})
	}
	ctx := map[string]any{
		"period":          map[string]any{"start": d.start},
		"facilityType":    coded(sectorSystem, d.sector),
		"practiceSetting": coded(settingSys, d.setting),
	}
	if d.end != "" {
		ctx["period"].(map[string]any)["end"] = d.end
	}
	if d.event != "" {
		ctx["event"] = []any{coded("urn:oid:1.2.250.1.213.2.5", d.event)}
	}
	dr := map[string]any{
		"resourceType": "DocumentReference",
		"contained": []any{
			map[string]any{"resourceType": "PractitionerRole", "id": "author", "identifier": []any{map[string]any{"system": "https://rpps.esante.gouv.fr", "value": d.rpps}}},
			map[string]any{"resourceType": "Organization", "id": "custodian", "name": "Centre hospitalier de test"},
		},
		"masterIdentifier": map[string]any{"system": "urn:ietf:rfc:3986", "value": d.master},
		"status":           "current",
		"type":             coded(loinc, d.typeCode),
		"category":         []any{coded(classSystem, d.class)},
		"subject":          map[string]any{"reference": d.subject},
		"date":             d.date,
		"author":           []any{map[string]any{"reference": "#author"}},
		"custodian":        map[string]any{"reference": "#custodian"},
		"securityLabel":    labels,
		"content": []any{map[string]any{
			"attachment": map[string]any{
				"contentType": d.contentType, "language": "fr-FR", "url": url,
				"size": len(d.data), "hash": sha1b64(d.data), "title": d.title,
				"creation": d.date,
			},
			"format": map[string]any{"system": formatSystemOf(d.format), "code": d.format},
		}},
		"context": ctx,
	}
	if d.replaces != "" {
		dr["relatesTo"] = []any{map[string]any{"code": "replaces", "target": map[string]any{"reference": "DocumentReference/" + d.replaces}}}
	}
	return dr
}

func coded(system, code string) map[string]any {
	return map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}
}

// submissionSetList is the SubmissionSet of a Provide Document Bundle.
func submissionSetList(subject, uniqueID string, items ...string) map[string]any {
	var entry []any
	for _, it := range items {
		entry = append(entry, map[string]any{"item": map[string]any{"reference": it}})
	}
	return map[string]any{
		"resourceType": "List",
		"contained":    []any{map[string]any{"resourceType": "PractitionerRole", "id": "author", "identifier": []any{map[string]any{"system": "https://rpps.esante.gouv.fr", "value": "10101201234"}}}},
		"identifier":   []any{map[string]any{"use": "usual", "system": "urn:ietf:rfc:3986", "value": uniqueID}},
		"status":       "current",
		"mode":         "working",
		"code":         coded(mhdListTypes, "submissionset"),
		"subject":      map[string]any{"reference": subject},
		"date":         "2025-03-01T10:00:00+01:00",
		"source":       map[string]any{"reference": "#author"},
		"entry":        entry,
	}
}

// provideBundle is an ITI-65 Provide Document Bundle of docs for one
// subject: a SubmissionSet, then each DocumentReference and its Binary.
func provideBundle(subject string, docs ...doc) map[string]any {
	var items []string
	var rest []any
	for i, d := range docs {
		d.subject = subject
		d = d.withDefaults()
		drURL := fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", 2*i+1)
		binURL := fmt.Sprintf("urn:uuid:00000000-0000-4000-8000-%012d", 2*i+2)
		items = append(items, drURL)
		rest = append(rest,
			entry(drURL, "POST", "DocumentReference", d.documentReference(binURL)),
			entry(binURL, "POST", "Binary", map[string]any{"resourceType": "Binary", "contentType": d.contentType, "data": b64(d.data)}),
		)
	}
	ss := submissionSetList(subject, "urn:uuid:"+uuidFor(docs[0].master), items...)
	return map[string]any{
		"resourceType": "Bundle", "type": "transaction",
		"entry": append([]any{entry("urn:uuid:00000000-0000-4000-8000-000000000000", "POST", "List", ss)}, rest...),
	}
}

// entry is a transaction entry.
func entry(fullURL, method, url string, res map[string]any) map[string]any {
	e := map[string]any{"request": map[string]any{"method": method, "url": url}, "resource": res}
	if fullURL != "" {
		e["fullUrl"] = fullURL
	}
	return e
}

// uuidFor derives a UUID from a string, for test unique ids.
func uuidFor(s string) string {
	h := sha1.Sum([]byte(s))
	x := fmt.Sprintf("%x", h)
	return x[0:8] + "-" + x[8:12] + "-4" + x[13:16] + "-8" + x[17:20] + "-" + x[20:32]
}

// masterFor is a fresh masterIdentifier value for a test document.
func masterFor(name string) string { return "urn:uuid:" + uuidFor(name) }

// itoa is strconv.Itoa, short.
func itoa(i int) string { return strconv.Itoa(i) }

// formatSystemOf is the code system of a format code: TRE_A06 for the
// CI-SIS ones, TRE_A11 for IHE's.
func formatSystemOf(code string) string {
	if strings.HasPrefix(code, "urn:asip:") {
		return cisisFormats
	}
	return formatSystem
}

// cdaDoc is a CDA document of the test patient whose header agrees with
// the metadata of d (type, dates, confidentiality, author).
func cdaDoc(d doc, typeName string) doc {
	d.contentType, d.format = "text/xml", "urn:asip:ci-sis:2010"
	d = d.withDefaults()
	date, _ := time.Parse(time.RFC3339, d.date)
	start, _ := time.Parse(time.RFC3339, d.start)
	d.end = d.date
	d.data = sample.CDA(sample.Header{
		ID: uuidFor(d.master), TypeCode: d.typeCode, TypeName: typeName, Title: d.title,
		Date: date, Start: start, Confidentiality: level(d.labels),
		INSSystem: strings.TrimPrefix(testINSSystem, "urn:oid:"), INS: testINS,
		BirthName: "MARTIN", GivenName: "Marie", Sex: "F", BirthDate: "19790315", Birthplace: "51215",
		AuthorIdNatPS: "8" + d.rpps, AuthorGiven: "Jean", AuthorFamily: "DUPONT", Organization: "Centre hospitalier de test",
		Sections: []sample.Section{{Title: "Conclusion", Paragraphs: []string{"Examen normal <sans> particularité & suivi."}}},
	})
	return d
}

// level is the confidentiality level among security label codes.
func level(labels []string) string {
	for _, l := range labels {
		if len(l) == 1 {
			return l
		}
	}
	return "N"
}

// The test patient: a test INS with a valid key.
const (
	testINSSystem = insTest
	testINS       = "279035121518989"
)

// testSubject names the test patient by INS, as the DMP examples do.
const testSubject = "Patient?identifier=" + testINSSystem + "|" + testINS
