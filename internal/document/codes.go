package document

import (
	"fmt"
	"strings"
)

// FHIR URIs of the code systems a French DocumentReference uses, and the
// OIDs the national value sets (IHE SVS files) name them by.
var systemOIDs = map[string]string{
	"http://loinc.org": "2.16.840.1.113883.6.1",
	"http://terminology.hl7.org/CodeSystem/v3-Confidentiality": oidConfidentiality,
	nos("TRE_A00-ProducteurDocNonPS"):                          "1.2.250.1.213.1.1.4.6",
	nos("TRE_A01-CadreExercice"):                               "1.2.250.1.213.1.1.4.9",
	nos("TRE_A03-ClasseDocument"):                              oidClass,
	nos("TRE_A05-TypeDocComplementaireCISIS"):                  "1.2.250.1.213.1.1.4.12",
	nos("TRE_A06-FormatCodeComplementaire"):                    "1.2.250.1.213.1.1.4.2.282",
	nos("TRE_A07-StatusVisibiliteDocument"):                    oidVisibility,
	nos("TRE_A11-IheFormatCode"):                               "1.3.6.1.4.1.19376.1.2.3",
	nos("TRE_R02-SecteurActivite"):                             "1.2.250.1.71.4.2.4",
}

// nos is the FHIR URI the ANS gives a table of its terminology server
// (the NOS): TRE_A03-ClasseDocument →
// https://mos.esante.gouv.fr/NOS/TRE_A03-ClasseDocument/FHIR/TRE-A03-ClasseDocument.
func nos(table string) string {
	return "https://mos.esante.gouv.fr/NOS/" + table + "/FHIR/" + strings.Replace(table, "_", "-", 1)
}

// OIDs the checks refer to.
const (
	oidConfidentiality = "2.16.840.1.113883.5.25"
	oidVisibility      = "1.2.250.1.213.1.1.4.13"
	oidClass           = "1.2.250.1.213.1.1.4.1"
)

// oidOf returns the OID a FHIR system stands for ("urn:oid:X" is X), ""
// when unknown.
func oidOf(system string) string {
	if o, ok := strings.CutPrefix(system, "urn:oid:"); ok {
		return o
	}
	return systemOIDs[system]
}

// The codes of the confidentiality value set J08 (domain/france.md §4):
// the HL7 confidentiality levels, and the visibility statuses of the
// shared record.
var (
	confidentialityCodes = []string{"N", "R", "V"}
	// VisibilityCodes are the visibility statuses of a document: hidden
	// from professionals (its author excepted), from the patient until
	// they are told, from a minor's legal representatives.
	VisibilityCodes = []string{"MASQUE_PS", "INVISIBLE_PATIENT", "INVISIBLE_REPRESENTANTS_LEGAUX"}
)

// The value sets the codes are checked against, by the short name the
// national files carry (JDV_J07_XdsTypeCode_CISIS → J07).
const (
	vsType            = "J07"
	vsClass           = "J06"
	vsConfidentiality = "J08"
	vsFormat          = "J10"
	vsFacilityType    = "J02"
	vsPracticeSetting = "J04"
)

// valueSetNames are the names messages give the value sets.
var valueSetNames = map[string]string{
	vsType:            "JDV_J07-XdsTypeCode-CISIS",
	vsClass:           "JDV_J06-XdsClassCode-CISIS",
	vsConfidentiality: "JDV_J08-XdsConfidentialityCode-CISIS",
	vsFormat:          "JDV_J10-XdsFormatCode-CISIS",
	vsFacilityType:    "JDV_J02-XdsHealthcareFacilityTypeCode-CISIS",
	vsPracticeSetting: "JDV_J04-XdsPracticeSettingCode-CISIS",
}

// knownSystems lists, for the value sets the shared terminology lacks
// (J06, J10), the code systems their codes come from: without the value
// set, a code is only checked to come from one of them.
var knownSystems = map[string][]string{
	vsClass:  {oidClass},
	vsFormat: {"1.3.6.1.4.1.19376.1.2.3", "1.2.250.1.213.1.1.4.2.282", "1.2.840.10008.2.6.1"},
}

// checkPreferred checks a CodeableConcept bound to value set vs with
// strength preferred (or extensible): a coding outside the value set is
// only a warning. The concept is at expr; nil concept: nothing to check.
func (s *Service) checkPreferred(rep *report, expr string, concept map[string]any, vs string) {
	if concept == nil {
		return
	}
	codings := objects(concept, "coding")
	if len(codings) == 0 {
		rep.warn("code-invalid", expr, "no coding: %s is expected (preferred binding)", valueSetNames[vs])
		return
	}
	var seen []string
	for _, c := range codings {
		system, code := str(c.m, "system"), str(c.m, "code")
		switch s.inValueSet(vs, system, code) {
		case yes:
			return
		case unknown:
			return // no value set to check against
		}
		seen = append(seen, system+"|"+code)
	}
	rep.warn("code-invalid", expr, "%s is not in %s (preferred binding): accepted", strings.Join(seen, ", "), valueSetNames[vs])
}

// membership is what a value set says of a code.
type membership int

const (
	no membership = iota
	yes
	// unknown: no terminology, or neither the value set nor its code
	// systems are known.
	unknown
)

// inValueSet looks a code up in value set vs: in the national file when
// loaded, else (J06, J10) by its code system only.
func (s *Service) inValueSet(vs, system, code string) membership {
	oid := oidOf(system)
	if s.opt.Terminology != nil {
		if _, ok := s.opt.Terminology.ValueSet(vs); ok {
			if s.opt.Terminology.Contains(vs, oid, code) {
				return yes
			}
			return no
		}
	}
	if systems, ok := knownSystems[vs]; ok {
		for _, known := range systems {
			if oid == known {
				return yes
			}
		}
		return no
	}
	return unknown
}

// securityCode is a securityLabel coding read against J08.
type securityCode struct {
	code string
	// visibility is set for the visibility statuses, unset for the
	// confidentiality levels.
	visibility bool
}

// checkSecurityLabels checks DocumentReference.securityLabel against J08
// (a required binding: PDSm slices it into one confidentiality level and
// any visibility statuses). A code outside J08 is refused. A J08 code
// under another code system than J08's — as the official PDSm examples
// write N under the visibility table — is read by its code, with a
// warning. Without a confidentiality level, N is added, as PDSm says to
// do when none is known; with several, the deposit is refused.
func (s *Service) checkSecurityLabels(rep *report, res map[string]any) []securityCode {
	var out []securityCode
	levels := 0
	for _, l := range objects(res, "securityLabel") {
		expr := fmt.Sprintf("DocumentReference.securityLabel[%d]", l.i)
		codings := objects(l.m, "coding")
		if len(codings) == 0 {
			rep.fail(422, "required", expr, "a security label needs a coding from %s", valueSetNames[vsConfidentiality])
			continue
		}
		for _, c := range codings {
			at := fmt.Sprintf("%s.coding[%d]", expr, c.i)
			system, code := str(c.m, "system"), str(c.m, "code")
			sc, ok := s.securityCode(code)
			if !ok {
				rep.fail(422, "code-invalid", at, "%s|%s is not in %s (required binding): want N, R, V, %s", system, code, valueSetNames[vsConfidentiality], strings.Join(VisibilityCodes, ", "))
				continue
			}
			want := oidConfidentiality
			if sc.visibility {
				want = oidVisibility
			}
			if oidOf(system) != want {
				rep.warn("code-invalid", at, "%s belongs to the code system urn:oid:%s in %s, not to %q: read as that code", code, want, valueSetNames[vsConfidentiality], system)
			}
			if !sc.visibility {
				levels++
			}
			out = append(out, sc)
		}
	}
	switch {
	case levels > 1:
		rep.fail(422, "business-rule", "DocumentReference.securityLabel", "%d confidentiality levels (N, R, V): a document has one", levels)
	case levels == 0 && !rep.failed():
		labels, _ := res["securityLabel"].([]any)
		res["securityLabel"] = append(labels, map[string]any{"coding": []any{map[string]any{
			"system": "http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "code": "N", "display": "normal",
		}}})
		rep.warn("required", "DocumentReference.securityLabel", "no confidentiality level: N (normal) was added, as PDSm says to do when none is known")
	}
	return out
}

// securityCode reads a code of J08, from the national file when loaded.
func (s *Service) securityCode(code string) (securityCode, bool) {
	for _, v := range VisibilityCodes {
		if code == v {
			return securityCode{code: code, visibility: true}, s.inJ08(oidVisibility, code)
		}
	}
	for _, c := range confidentialityCodes {
		if code == c {
			return securityCode{code: code}, s.inJ08(oidConfidentiality, code)
		}
	}
	return securityCode{}, false
}

// inJ08 reports whether the national J08 file, when loaded, holds the
// code; without it, the built-in list (domain/france.md §4) stands.
func (s *Service) inJ08(oid, code string) bool {
	if s.opt.Terminology == nil {
		return true
	}
	if _, ok := s.opt.Terminology.ValueSet(vsConfidentiality); !ok {
		return true
	}
	return s.opt.Terminology.Contains(vsConfidentiality, oid, code)
}
