package extract

import (
	"bytes"
	"cmp"
	"encoding/json"
	"strings"

	"github.com/carnet-sante/carnet/internal/directory"
)

// Code systems and extensions, as FR Core 2.x and the ANS terminologies
// (NOS) write them; the ANS directory's own FHIR examples use the same.
const (
	systemIdentifierType = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
	systemProfession     = "https://mos.esante.gouv.fr/NOS/TRE_G15-ProfessionSante/FHIR/TRE-G15-ProfessionSante"
	systemCategory       = "https://mos.esante.gouv.fr/NOS/TRE_R09-CategorieProfessionnelle/FHIR/TRE-R09-CategorieProfessionnelle"
	systemMode           = "https://mos.esante.gouv.fr/NOS/TRE_R23-ModeExercice/FHIR/TRE-R23-ModeExercice"
	systemFunction       = "https://mos.esante.gouv.fr/NOS/TRE_R21-Fonction/FHIR/TRE-R21-Fonction"
	systemGenre          = "https://mos.esante.gouv.fr/NOS/TRE_R22-GenreActivite/FHIR/TRE-R22-GenreActivite"
	systemSector         = "https://mos.esante.gouv.fr/NOS/TRE_R02-SecteurActivite/FHIR/TRE-R02-SecteurActivite"
	systemCommune        = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
	// extINSEECode adds the INSEE code of the commune to an Address.
	extINSEECode = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
)

// skillSystems gives the code system of a savoir-faire by its type
// (TRE_R04-TypeSavoirFaire), as the ANS ROR PractitionerRole profile
// slices PractitionerRole.specialty. FR Core binds specialty to the
// spécialités ordinales (type S) only; the other types have no better
// home in a PractitionerRole. A type missing here (CM, FQ, SH, SST) gets
// a specialty with the label as text only.
var skillSystems = map[string]string{
	"S":    "https://mos.esante.gouv.fr/NOS/TRE_R38-SpecialiteOrdinale/FHIR/TRE-R38-SpecialiteOrdinale",
	"C":    "https://mos.esante.gouv.fr/NOS/TRE_R39-Competence/FHIR/TRE-R39-Competence",
	"CEX":  "https://mos.esante.gouv.fr/NOS/TRE_R40-CompetenceExclusive/FHIR/TRE-R40-CompetenceExclusive",
	"OP":   "https://mos.esante.gouv.fr/NOS/TRE_G13-OrientationParticuliere/FHIR/TRE-G13-OrientationParticuliere",
	"CAPA": "https://mos.esante.gouv.fr/NOS/TRE_R43-CapaciteSavoirFaire/FHIR/TRE-R43-CapaciteSavoirFaire",
	"PAC":  "https://mos.esante.gouv.fr/NOS/TRE_R44-QualificationPAC/FHIR/TRE-R44-QualificationPAC",
	"DNQ":  "https://mos.esante.gouv.fr/NOS/TRE_R42-DESCnonQualifiant/FHIR/TRE-R42-DESCnonQualifiant",
	"DEC":  "https://mos.esante.gouv.fr/NOS/TRE_R97-DroitExerciceCompl/FHIR/TRE-R97-DroitExerciceCompl",
}

// FHIR R4 data types, with only the elements written here. omitempty
// keeps empty values out, as FHIR JSON requires.
type (
	coding struct {
		System  string `json:"system,omitempty"`
		Code    string `json:"code,omitempty"`
		Display string `json:"display,omitempty"`
	}
	codeableConcept struct {
		Coding []coding `json:"coding,omitempty"`
		Text   string   `json:"text,omitempty"`
	}
	identifier struct {
		Use    string           `json:"use,omitempty"`
		Type   *codeableConcept `json:"type,omitempty"`
		System string           `json:"system,omitempty"`
		Value  string           `json:"value,omitempty"`
	}
	reference struct {
		Reference  string      `json:"reference,omitempty"`
		Identifier *identifier `json:"identifier,omitempty"`
	}
	humanName struct {
		Family string   `json:"family,omitempty"`
		Given  []string `json:"given,omitempty"`
		Prefix []string `json:"prefix,omitempty"`
		Suffix []string `json:"suffix,omitempty"`
	}
	contactPoint struct {
		System string `json:"system"`
		Value  string `json:"value"`
		Use    string `json:"use"`
	}
	extension struct {
		URL         string  `json:"url"`
		ValueCoding *coding `json:"valueCoding,omitempty"`
	}
	address struct {
		Extension  []extension `json:"extension,omitempty"`
		Use        string      `json:"use,omitempty"`
		Line       []string    `json:"line,omitempty"`
		City       string      `json:"city,omitempty"`
		PostalCode string      `json:"postalCode,omitempty"`
		Country    string      `json:"country,omitempty"`
	}
)

type practitioner struct {
	ResourceType string       `json:"resourceType"`
	ID           string       `json:"id"`
	Identifier   []identifier `json:"identifier"`
	Active       bool         `json:"active"`
	Name         []humanName  `json:"name"`
}

type practitionerRole struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Active       bool              `json:"active"`
	Practitioner reference         `json:"practitioner"`
	Organization *reference        `json:"organization,omitempty"`
	Code         []codeableConcept `json:"code,omitempty"`
	Specialty    []codeableConcept `json:"specialty,omitempty"`
}

type organization struct {
	ResourceType string            `json:"resourceType"`
	ID           string            `json:"id"`
	Identifier   []identifier      `json:"identifier"`
	Active       bool              `json:"active"`
	Type         []codeableConcept `json:"type,omitempty"`
	Name         string            `json:"name,omitempty"`
	Alias        []string          `json:"alias,omitempty"`
	Telecom      []contactPoint    `json:"telecom,omitempty"`
	Address      []address         `json:"address,omitempty"`
	PartOf       *reference        `json:"partOf,omitempty"`
}

// officialID returns an official identifier typed with an FR Core
// identifier type code.
func officialID(typeCode, system, value string) identifier {
	return identifier{
		Use:    "official",
		Type:   &codeableConcept{Coding: []coding{{System: systemIdentifierType, Code: typeCode}}},
		System: system,
		Value:  value,
	}
}

// concept returns a one-coding concept, or nil without a code.
func concept(system, code, display string) []codeableConcept {
	if code == "" {
		return nil
	}
	return []codeableConcept{{Coding: []coding{{System: system, Code: code, Display: display}}}}
}

// nonEmpty returns the non-empty values among vs, nil if none.
func nonEmpty(vs ...string) []string {
	var out []string
	for _, v := range vs {
		if v != "" {
			out = append(out, v)
		}
	}
	return out
}

// practitioner maps a row to an FR Core Practitioner: the IdNatPS (and the
// RPPS alone, as FR Core's rpps slice), the exercise name, the civilité
// code as prefix (M, MME) and the civilité d'exercice code as suffix (DR,
// PR), as FR Core binds name.suffix and the ANS directory writes both. It
// holds nothing that differs between the rows of one professional.
func (r *Reader) practitioner(a *activity) Resource {
	ids := []identifier{officialID("IDNPS", directory.SystemIdNatPS, a.ps)}
	if a.rpps != "" {
		ids = append(ids, officialID("RPPS", directory.SystemRPPS, a.rpps))
	}
	p := practitioner{
		ResourceType: "Practitioner",
		ID:           a.ps,
		Identifier:   ids,
		Active:       true,
		Name: []humanName{{
			Family: r.row[colFamily],
			Given:  nonEmpty(r.row[colGiven]),
			Prefix: nonEmpty(r.row[colCivilityCode]),
			Suffix: nonEmpty(r.row[colTitleCode]),
		}},
	}
	return Resource{Type: p.ResourceType, ID: p.ID, JSON: r.out.marshal(p)}
}

// role maps a row to a PractitionerRole: who, where, and as what —
// profession (TRE_G15), professional category (TRE_R09), mode d'exercice
// (TRE_R23), and function and activity genre where newer extracts carry
// them — with the savoir-faire as specialty.
func (r *Reader) role(a *activity) Resource {
	row := &r.row
	pr := practitionerRole{
		ResourceType: "PractitionerRole",
		ID:           a.roleID,
		Active:       true,
		Practitioner: reference{Reference: "Practitioner/" + a.ps},
	}
	if a.orgID != "" {
		pr.Organization = &reference{Reference: "Organization/" + a.orgID}
	}
	for _, c := range [][]codeableConcept{
		concept(systemProfession, row[colProfession], row[colProfessionLabel]),
		concept(systemCategory, row[colCategory], row[colCategoryLabel]),
		concept(systemMode, row[colMode], row[colModeLabel]),
		concept(systemFunction, row[colFunction], row[colFunctionLabel]),
		concept(systemGenre, row[colGenre], row[colGenreLabel]),
	} {
		pr.Code = append(pr.Code, c...)
	}
	if skill := row[colSkill]; skill != "" {
		if system, ok := skillSystems[row[colSkillType]]; ok {
			pr.Specialty = concept(system, skill, row[colSkillLabel])
		} else {
			pr.Specialty = []codeableConcept{{Text: cmp.Or(row[colSkillLabel], skill)}}
		}
	}
	return Resource{Type: pr.ResourceType, ID: pr.ID, JSON: r.out.marshal(pr)}
}

// organization maps the structure of a row to an FR Core Organization:
// its IdNatStruct, FINESS (géographique), SIRET and SIREN, name, address
// with the INSEE commune code, telecom, activity sector, and the legal
// entity's FINESS as a logical partOf reference.
func (r *Reader) organization(a *activity) Resource {
	row := &r.row
	ids := []identifier{officialID("IDNST", directory.SystemIdNatStruct, a.st)}
	if v := row[colFINESS]; v != "" {
		ids = append(ids, officialID("FINEG", directory.SystemFINESS, v))
	}
	if v := row[colSIRET]; v != "" {
		ids = append(ids, officialID("SIRET", directory.SystemSIRENE, v))
	}
	if v := row[colSIREN]; v != "" {
		ids = append(ids, officialID("SIREN", directory.SystemSIRENE, v))
	}
	o := organization{
		ResourceType: "Organization",
		ID:           a.orgID,
		Identifier:   ids,
		Active:       true,
		Type:         concept(systemSector, row[colSector], row[colSectorLabel]),
		Name:         cmp.Or(row[colName], row[colBrand]),
	}
	if brand := row[colBrand]; brand != "" && brand != o.Name {
		o.Alias = []string{brand}
	}
	for _, t := range []struct {
		col    column
		system string
	}{{colPhone, "phone"}, {colPhone2, "phone"}, {colFax, "fax"}, {colEmail, "email"}} {
		if v := row[t.col]; v != "" {
			o.Telecom = append(o.Telecom, contactPoint{System: t.system, Value: v, Use: "work"})
		}
	}
	if addr, ok := r.address(); ok {
		o.Address = []address{addr}
	}
	if v := row[colFINESSLegal]; v != "" {
		id := officialID("FINEJ", directory.SystemFINESS, v)
		o.PartOf = &reference{Identifier: &id}
	}
	return Resource{Type: o.ResourceType, ID: o.ID, JSON: r.out.marshal(o)}
}

// address returns the postal address of the row's structure, lines in
// the order of a French envelope (NF Z10-011): point géographique, number
// and street, distribution mention. Without a commune name, the "bureau
// cedex" line ("25300 DOUBS") gives the city and, if missing, the postal
// code.
func (r *Reader) address() (address, bool) {
	row := &r.row
	street := strings.Join(nonEmpty(row[colStreetNumber], row[colStreetIndex],
		cmp.Or(row[colStreetTypeLabel], row[colStreetTypeCode]), row[colStreet]), " ")
	a := address{
		Use:        "work",
		Line:       nonEmpty(row[colGeoComplement], street, row[colDistribution]),
		City:       row[colCommune],
		PostalCode: row[colPostalCode],
		Country:    row[colCountry],
	}
	if a.City == "" {
		if code, city, ok := strings.Cut(row[colCedex], " "); ok && len(code) == 5 && isToken(code) {
			a.City = strings.TrimSpace(city)
			a.PostalCode = cmp.Or(a.PostalCode, code)
		}
	}
	if insee := row[colCommuneCode]; isINSEECode(insee) {
		a.Extension = []extension{{URL: extINSEECode, ValueCoding: &coding{System: systemCommune, Code: insee}}}
	}
	if a.Line == nil && a.City == "" && a.PostalCode == "" && a.Country == "" && a.Extension == nil {
		return address{}, false
	}
	return a, true
}

// isINSEECode reports whether s has the shape of an INSEE commune code: 5
// digits, or 2A/2B (Corsica) and 3 digits.
func isINSEECode(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i, c := range []byte(s) {
		if (c < '0' || c > '9') && !(i == 1 && s[0] == '2' && (c == 'A' || c == 'B')) {
			return false
		}
	}
	return true
}

// jsonWriter marshals resources through one reused buffer, without the
// HTML escaping of json.Marshal ("&" stays "&" in a structure's name).
type jsonWriter struct {
	buf bytes.Buffer
	enc *json.Encoder
}

func newJSONWriter() *jsonWriter {
	w := &jsonWriter{}
	w.enc = json.NewEncoder(&w.buf)
	w.enc.SetEscapeHTML(false)
	return w
}

// marshal returns v as JSON in a new slice. The values written here are
// strings, bools and slices of them: encoding cannot fail.
func (w *jsonWriter) marshal(v any) []byte {
	w.buf.Reset()
	if err := w.enc.Encode(v); err != nil {
		panic("extract: encoding a resource: " + err.Error())
	}
	return bytes.Clone(bytes.TrimSuffix(w.buf.Bytes(), []byte("\n")))
}
