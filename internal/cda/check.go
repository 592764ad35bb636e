package cda

import (
	"strings"

	"github.com/carnet-sante/carnet/internal/ins"
)

// Identifier is a FHIR Identifier: system (URI) and value.
type Identifier struct {
	System, Value string
}

// Coding is a FHIR Coding: system (URI) and code.
type Coding struct {
	System, Code string
}

// Metadata is what a DocumentReference says about the document it
// carries, for Check. Empty fields are not compared.
type Metadata struct {
	// Patient is the patient's identifier (DocumentReference.subject), an
	// INS for a French shared record.
	Patient Identifier
	// Type is DocumentReference.type.
	Type Coding
	// Authors are the identifiers of the authors (DocumentReference.author):
	// IdNatPS (system urn:oid:1.2.250.1.71.4.2.1), or a bare RPPS under
	// https://rpps.esante.gouv.fr, read as IdNatPS "8"+RPPS. Other systems
	// are ignored.
	Authors []Identifier
	// SecurityLabels are DocumentReference.securityLabel codings.
	SecurityLabels []Coding
	// PeriodStart and PeriodEnd are DocumentReference.context.period, and
	// Date is DocumentReference.date, as FHIR writes them (date, dateTime
	// or instant).
	PeriodStart, PeriodEnd, Date string
}

// Mismatch is a disagreement between the DocumentReference and the CDA
// header.
type Mismatch struct {
	// Field is the DocumentReference element, e.g. "DocumentReference.type".
	Field string
	// Header is the CDA element it must agree with, e.g. "ClinicalDocument/code".
	Header string
	// Metadata and Document are the two values, as each side writes them.
	Metadata, Document string
	// Personal reports values that are personal data (the INS): show them
	// to the depositor who sent them, keep them out of logs.
	Personal bool
	// Reason is set when the metadata value could not be read at all.
	Reason string
}

// String describes the mismatch, leaving out personal values.
func (m Mismatch) String() string {
	switch {
	case m.Reason != "":
		return m.Field + ": " + m.Reason
	case m.Personal:
		return m.Field + " does not match " + m.Header
	}
	return m.Field + " (" + m.Metadata + ") does not match " + m.Header + " (" + m.Document + ")"
}

// Well-known FHIR code system URIs and the OIDs CDA writes for them.
var systemOIDs = map[string]string{
	"http://loinc.org":       OIDLOINC,
	"http://snomed.info/sct": "2.16.840.1.113883.6.96",
	"http://terminology.hl7.org/CodeSystem/v3-Confidentiality": OIDConfidentiality,
}

// rppsSystem is the FHIR system of the bare 11-digit RPPS number.
const rppsSystem = "https://rpps.esante.gouv.fr"

// oidOf returns the OID a FHIR system URI stands for: "urn:oid:X" is X, a
// few well-known URIs are mapped; "" when unknown.
func oidOf(system string) string {
	if o, ok := strings.CutPrefix(system, "urn:oid:"); ok {
		return o
	}
	return systemOIDs[system]
}

// Check compares the header with the DocumentReference metadata and
// returns every disagreement, nil when they agree. Only what both sides
// give is compared:
//   - patient: when the metadata identifier is an INS and the header has
//     INS ids, one of them must be the same (system and value); for another
//     system, the same rule applies to the header ids under that OID;
//   - type: the codes must be equal, and the code systems too when the
//     metadata system is one the package can map to an OID;
//   - authors: at least one metadata IdNatPS must be the IdNatPS of a
//     header author;
//   - confidentiality: the header's confidentialityCode must be among the
//     security labels, when there are any;
//   - dates: DocumentReference.date against effectiveTime, and
//     context.period start and end against the first serviceEvent's low and
//     high, at the coarser of the two precisions.
func (d *Document) Check(meta Metadata) []Mismatch {
	var out []Mismatch
	if m, ok := d.checkPatient(meta.Patient); !ok {
		out = append(out, m)
	}
	if m, ok := d.checkType(meta.Type); !ok {
		out = append(out, m)
	}
	if m, ok := d.checkAuthors(meta.Authors); !ok {
		out = append(out, m)
	}
	if m, ok := d.checkConfidentiality(meta.SecurityLabels); !ok {
		out = append(out, m)
	}
	var period Period
	for _, se := range d.ServiceEvents {
		if !se.Period.Low.IsZero() || !se.Period.High.IsZero() {
			period = se.Period
			break
		}
	}
	const se = "ClinicalDocument/documentationOf/serviceEvent/effectiveTime"
	for _, c := range []struct {
		field, header, meta string
		doc                 TS
	}{
		{"DocumentReference.date", "ClinicalDocument/effectiveTime", meta.Date, d.EffectiveTime},
		{"DocumentReference.context.period.start", se + "/low", meta.PeriodStart, period.Low},
		{"DocumentReference.context.period.end", se + "/high", meta.PeriodEnd, period.High},
	} {
		if m, ok := checkTime(c.field, c.header, c.meta, c.doc); !ok {
			out = append(out, m)
		}
	}
	return out
}

func (d *Document) checkPatient(id Identifier) (Mismatch, bool) {
	const field, header = "DocumentReference.subject", "ClinicalDocument/recordTarget/patientRole/id"
	if id.Value == "" || id.System == "" {
		return Mismatch{}, true
	}
	value := strings.TrimSpace(id.Value)
	var candidates []string
	if k, isINS := ins.KindOf(id.System); isINS {
		for _, v := range d.Patient.INS {
			if v.Kind == k && v.NIR.String() == value {
				return Mismatch{}, true
			}
			candidates = append(candidates, v.Kind.System()+"|"+v.NIR.String())
		}
	} else {
		oid := oidOf(id.System)
		for _, v := range d.Patient.IDs {
			if oid == "" || v.Root != oid || v.Extension == "" {
				continue
			}
			if v.Extension == value {
				return Mismatch{}, true
			}
			candidates = append(candidates, id.System+"|"+v.Extension)
		}
	}
	if len(candidates) == 0 {
		return Mismatch{}, true
	}
	return Mismatch{
		Field: field, Header: header, Personal: true,
		Metadata: id.System + "|" + value, Document: strings.Join(candidates, ", "),
	}, false
}

func (d *Document) checkType(c Coding) (Mismatch, bool) {
	if c.Code == "" || d.Code.Code == "" {
		return Mismatch{}, true
	}
	oid := oidOf(c.System)
	if c.Code == d.Code.Code && (oid == "" || oid == d.Code.CodeSystem) {
		return Mismatch{}, true
	}
	return Mismatch{
		Field: "DocumentReference.type", Header: "ClinicalDocument/code",
		Metadata: c.System + "|" + c.Code, Document: d.Code.CodeSystem + "|" + d.Code.Code,
	}, false
}

func (d *Document) checkAuthors(ids []Identifier) (Mismatch, bool) {
	var meta, doc []string
	for _, id := range ids {
		switch v := strings.TrimSpace(id.Value); {
		case v == "":
		case oidOf(id.System) == OIDIdNatPS:
			meta = append(meta, v)
		case id.System == rppsSystem:
			meta = append(meta, "8"+v)
		}
	}
	for _, a := range d.Authors {
		if v := a.IdNatPS(); v != "" {
			doc = append(doc, v)
		}
	}
	if len(meta) == 0 || len(doc) == 0 {
		return Mismatch{}, true
	}
	for _, m := range meta {
		for _, v := range doc {
			if m == v {
				return Mismatch{}, true
			}
		}
	}
	return Mismatch{
		Field: "DocumentReference.author", Header: "ClinicalDocument/author/assignedAuthor/id",
		Metadata: strings.Join(meta, ", "), Document: strings.Join(doc, ", "),
	}, false
}

func (d *Document) checkConfidentiality(labels []Coding) (Mismatch, bool) {
	c := d.Confidentiality
	if len(labels) == 0 || c.Code == "" {
		return Mismatch{}, true
	}
	var meta []string
	for _, l := range labels {
		if l.Code == c.Code && (c.CodeSystem == "" || oidOf(l.System) == c.CodeSystem) {
			return Mismatch{}, true
		}
		meta = append(meta, l.System+"|"+l.Code)
	}
	return Mismatch{
		Field: "DocumentReference.securityLabel", Header: "ClinicalDocument/confidentialityCode",
		Metadata: strings.Join(meta, ", "), Document: c.CodeSystem + "|" + c.Code,
	}, false
}

func checkTime(field, header, meta string, doc TS) (Mismatch, bool) {
	if meta == "" || doc.IsZero() {
		return Mismatch{}, true
	}
	t, err := parseFHIRTime(meta)
	if err != nil {
		return Mismatch{Field: field, Header: header, Metadata: meta, Document: doc.String(), Reason: err.Error()}, false
	}
	if sameAt(t, doc) {
		return Mismatch{}, true
	}
	return Mismatch{Field: field, Header: header, Metadata: meta, Document: doc.String()}, false
}
