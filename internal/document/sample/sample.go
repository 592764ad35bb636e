// Package sample makes synthetic clinical documents — French CDA R2
// documents with a structured narrative, and one-page PDFs — for the demo
// population and the tests. Every person and identifier in them is
// whatever the caller gives, and the demo gives fictitious ones.
package sample

import (
	"bytes"
	"fmt"
	"strings"
	"text/template"
	"time"
)

// Header is what a CDA header says of a document.
type Header struct {
	ID string // the document's id, a UUID: ClinicalDocument/id/@root
	// TypeCode and TypeName are the LOINC type of document (JDV_J07).
	TypeCode, TypeName string
	Title              string
	Date               time.Time // effectiveTime, and the service event's end
	Start              time.Time // the service event's start
	// Confidentiality is N, R or V.
	Confidentiality string
	// INSSystem is the OID of the patient's INS, INS its value.
	INSSystem, INS string
	// BirthName, GivenName, Sex (M or F), BirthDate (YYYYMMDD) and
	// Birthplace (INSEE code) are the patient's INS traits.
	BirthName, GivenName, Sex, BirthDate, Birthplace string
	// AuthorIdNatPS is the author's national identifier ("8"+RPPS);
	// AuthorGiven and AuthorFamily their name; Organization their
	// structure.
	AuthorIdNatPS, AuthorGiven, AuthorFamily, Organization string
	// Sections are the narrative: titles and paragraphs.
	Sections []Section
}

// Section is a titled part of the narrative.
type Section struct {
	Title      string
	Paragraphs []string
}

// CDA returns a CDA R2 document with the header h and a structured body.
func CDA(h Header) []byte {
	var b bytes.Buffer
	if err := cdaTemplate.Execute(&b, h); err != nil {
		panic("sample: " + err.Error()) // the template is fixed: cannot happen
	}
	return b.Bytes()
}

// hl7 formats an instant as an HL7 TS with its offset.
func hl7(t time.Time) string { return t.Format("20060102150405-0700") }

var cdaTemplate = template.Must(template.New("cda").Funcs(template.FuncMap{"ts": hl7, "x": xmlEscape}).Parse(`<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <realmCode code="FR"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.2.8.2.1"/>
  <templateId root="1.2.250.1.213.1.1.1.1"/>
  <id root="{{x .ID}}"/>
  <code code="{{x .TypeCode}}" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC" displayName="{{x .TypeName}}"/>
  <title>{{x .Title}}</title>
  <effectiveTime value="{{ts .Date}}"/>
  <confidentialityCode code="{{x .Confidentiality}}" codeSystem="2.16.840.1.113883.5.25"/>
  <languageCode code="fr-FR"/>
  <setId root="{{x .ID}}"/>
  <versionNumber value="1"/>
  <recordTarget>
    <patientRole>
      <id root="{{x .INSSystem}}" extension="{{x .INS}}"/>
      <patient>
        <name>
          <given qualifier="BR">{{x .GivenName}}</given>
          <family qualifier="BR">{{x .BirthName}}</family>
        </name>
        <administrativeGenderCode code="{{x .Sex}}" codeSystem="2.16.840.1.113883.5.1"/>
        <birthTime value="{{x .BirthDate}}"/>
        <birthplace><place><addr><county>{{x .Birthplace}}</county></addr></place></birthplace>
      </patient>
    </patientRole>
  </recordTarget>
  <author>
    <time value="{{ts .Date}}"/>
    <assignedAuthor>
      <id root="1.2.250.1.71.4.2.1" extension="{{x .AuthorIdNatPS}}"/>
      <assignedPerson><name><given>{{x .AuthorGiven}}</given><family>{{x .AuthorFamily}}</family></name></assignedPerson>
      <representedOrganization><name>{{x .Organization}}</name></representedOrganization>
    </assignedAuthor>
  </author>
  <custodian>
    <assignedCustodian>
      <representedCustodianOrganization>
        <id root="1.2.250.1.213.4.1"/>
        <name>{{x .Organization}}</name>
      </representedCustodianOrganization>
    </assignedCustodian>
  </custodian>
  <documentationOf>
    <serviceEvent>
      <effectiveTime><low value="{{ts .Start}}"/><high value="{{ts .Date}}"/></effectiveTime>
    </serviceEvent>
  </documentationOf>
  <component>
    <structuredBody>{{range .Sections}}
      <component>
        <section>
          <title>{{x .Title}}</title>
          <text>{{range .Paragraphs}}<paragraph>{{x .}}</paragraph>{{end}}</text>
        </section>
      </component>{{end}}
    </structuredBody>
  </component>
</ClinicalDocument>
`))

// xmlEscape escapes text for an XML element or attribute.
func xmlEscape(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch r {
		case '&':
			b.WriteString("&amp;")
		case '<':
			b.WriteString("&lt;")
		case '>':
			b.WriteString("&gt;")
		case '"':
			b.WriteString("&quot;")
		case '\'':
			b.WriteString("&apos;")
		default:
			b.WriteRune(r)
		}
	}
	return b.String()
}

// PDF returns a one-page PDF showing the title and the lines, in
// Helvetica with the WinAnsi encoding: French text shows as written;
// characters outside that encoding become '?'.
func PDF(title string, lines []string) []byte {
	var content strings.Builder
	content.WriteString("BT /F1 16 Tf 56 780 Td (" + pdfText(title) + ") Tj ET\n")
	for i, l := range lines {
		fmt.Fprintf(&content, "BT /F1 11 Tf 56 %d Td (%s) Tj ET\n", 750-16*i, pdfText(l))
	}
	objects := []string{
		"<< /Type /Catalog /Pages 2 0 R >>",
		"<< /Type /Pages /Kids [3 0 R] /Count 1 >>",
		"<< /Type /Page /Parent 2 0 R /MediaBox [0 0 595 842] /Resources << /Font << /F1 4 0 R >> >> /Contents 5 0 R >>",
		"<< /Type /Font /Subtype /Type1 /BaseFont /Helvetica /Encoding /WinAnsiEncoding >>",
		fmt.Sprintf("<< /Length %d >>\nstream\n%sendstream", content.Len(), content.String()),
	}
	var b bytes.Buffer
	b.WriteString("%PDF-1.4\n")
	offsets := make([]int, len(objects))
	for i, o := range objects {
		offsets[i] = b.Len()
		fmt.Fprintf(&b, "%d 0 obj\n%s\nendobj\n", i+1, o)
	}
	xref := b.Len()
	fmt.Fprintf(&b, "xref\n0 %d\n0000000000 65535 f \n", len(objects)+1)
	for _, off := range offsets {
		fmt.Fprintf(&b, "%010d 00000 n \n", off)
	}
	fmt.Fprintf(&b, "trailer\n<< /Size %d /Root 1 0 R >>\nstartxref\n%d\n%%%%EOF\n", len(objects)+1, xref)
	return b.Bytes()
}

// winAnsi are the characters of WinAnsiEncoding outside Latin-1 that
// French text uses, and their codes.
var winAnsi = map[rune]byte{'€': 0x80, '’': 0x92, '‘': 0x91, '“': 0x93, '”': 0x94, '–': 0x96, '—': 0x97, 'Œ': 0x8C, 'œ': 0x9C, '…': 0x85}

// pdfText escapes a PDF literal string in WinAnsiEncoding.
func pdfText(s string) string {
	var b strings.Builder
	for _, r := range s {
		switch {
		case r == '(' || r == ')' || r == '\\':
			b.WriteByte('\\')
			b.WriteRune(r)
		case r >= 32 && r < 127:
			b.WriteRune(r)
		case r >= 0xA0 && r <= 0xFF:
			fmt.Fprintf(&b, "\\%03o", r)
		case winAnsi[r] != 0:
			fmt.Fprintf(&b, "\\%03o", winAnsi[r])
		default:
			b.WriteByte('?')
		}
	}
	return b.String()
}
