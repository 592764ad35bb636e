package bench

import (
	"bytes"
	"encoding/xml"
	"fmt"
	"math/rand/v2"
	"strings"
	"time"
)

// Kind is a kind of document the benchmark deposits, with its realistic
// size: what French professionals' software sends most.
type Kind struct {
	Name        string // "cda", "pdf", "imaging"
	Size        int    // bytes of the document
	ContentType string
	// Type is the LOINC document type (value set J07) and its display.
	Type, TypeDisplay string
	// Class is the document class (J57) and its display.
	Class, ClassDisplay string
	// Format is the PDSm format code (TRE_A11).
	Format string
}

// The kinds of documents deposited: a structured consultation report (CDA
// R2 with a French header), a laboratory report as PDF, an imaging report
// as a PDF with its key images.
var (
	KindCDA = Kind{Name: "cda", Size: 20 << 10, ContentType: "text/xml",
		Type: "11488-4", TypeDisplay: "CR de consultation", Class: "10", ClassDisplay: "Compte rendu",
		Format: "urn:asip:ci-sis:2010"}
	KindPDF = Kind{Name: "pdf", Size: 200 << 10, ContentType: "application/pdf",
		Type: "11502-2", TypeDisplay: "CR d'examens biologiques", Class: "10", ClassDisplay: "Compte rendu",
		Format: "urn:ihe:iti:xds-sd:pdf:2008"}
	KindImaging = Kind{Name: "imaging", Size: 2 << 20, ContentType: "application/pdf",
		Type: "18748-4", TypeDisplay: "CR d'imagerie médicale", Class: "31", ClassDisplay: "Imagerie médicale",
		Format: "urn:ihe:iti:xds-sd:pdf:2008"}
)

// Document makes the bytes of one document of kind k about patient p by
// author a, identified by uniqueID and written at `at`. CDA documents carry
// a valid CI-SIS header (package cda parses it) and a narrative body padded
// to the kind's size; PDF documents are a PDF skeleton around incompressible
// bytes, like the compressed streams of a real PDF. uniqueID appears in
// every document, so no two documents have the same bytes.
func Document(r *rand.Rand, k Kind, p *Patient, a *Professional, uniqueID string, at time.Time) []byte {
	if k.ContentType == "text/xml" {
		return cdaDocument(r, k, p, a, uniqueID, at)
	}
	return pdfDocument(r, k, uniqueID)
}

// filler is the narrative the CDA body repeats, varied by the generator,
// escaped for XML once (fillerXML) since every document uses it.
var filler = []string{
	"Patient reçu en consultation pour suivi de son hypertension artérielle, bien équilibrée sous traitement.",
	"Examen clinique : auscultation cardio-pulmonaire normale, abdomen souple, pas d'œdème des membres inférieurs.",
	"Biologie récente : fonction rénale normale, kaliémie à 4,2 mmol/L, bilan lipidique dans les objectifs.",
	"Conduite à tenir : poursuite du traitement, contrôle tensionnel à domicile, revoir dans trois mois.",
	"Antécédents : appendicectomie dans l'enfance, pas d'allergie médicamenteuse connue.",
}

var fillerXML = func() []string {
	out := make([]string, len(filler))
	for i, f := range filler {
		out[i] = escapeXML(f)
	}
	return out
}()

func escapeXML(s string) string {
	var e strings.Builder
	xml.EscapeText(&e, []byte(s))
	return e.String()
}

// padding is the ASCII text that completes a CDA body to its size.
const padding = "Suivi sans particularite. "

func cdaDocument(r *rand.Rand, k Kind, p *Patient, a *Professional, uniqueID string, at time.Time) []byte {
	var b bytes.Buffer
	b.Grow(k.Size + 1024)
	ts := at.Format("20060102150405-0700")
	start := at.Add(-30 * time.Minute).Format("20060102150405-0700")
	gender := "M"
	if p.Traits.Sex.String() == "female" {
		gender = "F"
	}
	x := escapeXML
	fmt.Fprintf(&b, `<?xml version="1.0" encoding="UTF-8"?>
<ClinicalDocument xmlns="urn:hl7-org:v3">
  <realmCode code="FR"/>
  <typeId root="2.16.840.1.113883.1.3" extension="POCD_HD000040"/>
  <templateId root="2.16.840.1.113883.2.8.2.1"/>
  <templateId root="1.2.250.1.213.1.1.1.1"/>
  <id root="1.2.250.1.999.1.1.1" extension="%s"/>
  <code code="%s" codeSystem="2.16.840.1.113883.6.1" codeSystemName="LOINC" displayName="%s"/>
  <title>%s</title>
  <effectiveTime value="%s"/>
  <confidentialityCode code="N" codeSystem="2.16.840.1.113883.5.25" displayName="Normal"/>
  <languageCode code="fr-FR"/>
  <setId root="1.2.250.1.999.1.1.2" extension="%s"/>
  <versionNumber value="1"/>
  <recordTarget>
    <patientRole>
      <id root="1.2.250.1.213.1.4.11" extension="%s"/>
      <patient>
        <name><given qualifier="BR">%s</given><family qualifier="BR">%s</family></name>
        <administrativeGenderCode code="%s" codeSystem="2.16.840.1.113883.5.1"/>
        <birthTime value="%s"/>
        <birthplace><place><addr><county>%s</county></addr></place></birthplace>
      </patient>
    </patientRole>
  </recordTarget>
  <author>
    <time value="%s"/>
    <assignedAuthor>
      <id root="1.2.250.1.71.4.2.1" extension="%s"/>
      <code code="%s" codeSystem="1.2.250.1.213.1.1.4.5"/>
      <assignedPerson><name><prefix qualifier="AC">DR</prefix><given>%s</given><family>%s</family></name></assignedPerson>
      <representedOrganization><id root="1.2.250.1.71.4.2.2" extension="%s"/><name>%s</name></representedOrganization>
    </assignedAuthor>
  </author>
  <custodian>
    <assignedCustodian>
      <representedCustodianOrganization><id root="1.2.250.1.71.4.2.2" extension="%s"/><name>%s</name></representedCustodianOrganization>
    </assignedCustodian>
  </custodian>
  <documentationOf>
    <serviceEvent>
      <effectiveTime><low value="%s"/><high value="%s"/></effectiveTime>
      <performer typeCode="PRF">
        <assignedEntity>
          <id root="1.2.250.1.71.4.2.1" extension="%s"/>
          <representedOrganization>
            <standardIndustryClassCode code="AMBULATOIRE" codeSystem="1.2.250.1.213.1.1.4.9" displayName="Ambulatoire"/>
          </representedOrganization>
        </assignedEntity>
      </performer>
    </serviceEvent>
  </documentationOf>
  <componentOf>
    <encompassingEncounter>
      <effectiveTime><low value="%s"/><high value="%s"/></effectiveTime>
      <location><healthCareFacility><code code="SA07" codeSystem="1.2.250.1.71.4.2.4" displayName="Cabinet individuel"/></healthCareFacility></location>
    </encompassingEncounter>
  </componentOf>
  <component>
    <structuredBody>
`,
		x(uniqueID), k.Type, x(k.TypeDisplay), x(k.TypeDisplay), ts, x(uniqueID),
		p.NIR.String(), x(p.Traits.FirstGivenName), x(p.Traits.BirthName), gender,
		strings.ReplaceAll(p.Traits.BirthDate, "-", ""), p.Traits.Birthplace,
		ts, a.IdNatPS(), a.Specialty, x(a.Given), x(a.Family), a.Structure, x(a.Institution),
		a.Structure, x(a.Institution), start, ts, a.IdNatPS(), start, ts)
	const tail = "    </structuredBody>\n  </component>\n</ClinicalDocument>\n"
	section := 1
	for ; b.Len() < k.Size-len(tail)-1200; section++ {
		fmt.Fprintf(&b, "      <component><section><title>Section %d</title><text>", section)
		for i := 0; i < 4; i++ {
			b.WriteString("<paragraph>")
			b.WriteString(fillerXML[r.IntN(len(fillerXML))])
			b.WriteString("</paragraph>")
		}
		b.WriteString("</text></section></component>\n")
	}
	// A last section brings the document to its size, to the byte.
	open := fmt.Sprintf("      <component><section><title>Section %d</title><text><paragraph>", section)
	const closing = "</paragraph></text></section></component>\n"
	if n := k.Size - b.Len() - len(open) - len(closing) - len(tail); n > 0 {
		b.WriteString(open)
		b.WriteString(strings.Repeat(padding, n/len(padding)+1)[:n])
		b.WriteString(closing)
	}
	b.WriteString(tail)
	return b.Bytes()
}

func pdfDocument(r *rand.Rand, k Kind, uniqueID string) []byte {
	head := fmt.Sprintf("%%PDF-1.7\n%% %s\n1 0 obj\n<< /Length %d /Filter /FlateDecode >>\nstream\n", uniqueID, k.Size)
	const tail = "\nendstream\nendobj\ntrailer\n<< /Root 1 0 R >>\n%%EOF\n"
	b := make([]byte, 0, k.Size)
	b = append(b, head...)
	n := k.Size - len(head) - len(tail)
	for len(b)+8 <= len(head)+n {
		v := r.Uint64()
		b = append(b, byte(v), byte(v>>8), byte(v>>16), byte(v>>24), byte(v>>32), byte(v>>40), byte(v>>48), byte(v>>56))
	}
	for len(b) < len(head)+n {
		b = append(b, byte(r.Uint32()))
	}
	return append(b, tail...)
}

// newUUID draws a random (version 4) UUID from r.
func newUUID(r *rand.Rand) string {
	a, b := r.Uint64(), r.Uint64()
	a = a&^(0xf<<12) | 0x4<<12
	b = b&^(0x3<<62) | 0x2<<62
	return fmt.Sprintf("%08x-%04x-%04x-%04x-%012x", a>>32, a>>16&0xffff, a&0xffff, b>>48, b&0xffffffffffff)
}
