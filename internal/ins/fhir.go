package ins

import (
	"encoding/json"
	"errors"
	"fmt"
	"strings"
)

// FR Core canonical URLs used by the Patient mapping (FR Core 2.x,
// Interop'Santé, https://hl7.fr/ig/fhir/core).
const (
	ProfilePatient    = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient"
	ProfilePatientINS = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"

	// ExtBirthListGivenName is on the official HumanName: the birth first
	// names, space-separated, as INSi returns them.
	ExtBirthListGivenName = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name"
	// ExtBirthPlace is the international extension FR Core uses for the
	// birthplace; its valueAddress carries the INSEE code in
	// ExtAddressINSEECode.
	ExtBirthPlace = "http://hl7.org/fhir/StructureDefinition/patient-birthPlace"
	// ExtAddressINSEECode adds the 5-character INSEE code (commune, or
	// 99 + country) to an Address, as a Coding.
	ExtAddressINSEECode = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code"
	// ExtIdentityReliability carries the RNIV status (sub-extension
	// identityStatus) and attributes (sub-extensions comment).
	ExtIdentityReliability = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability"

	CodeSystemIdentityStatus        = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status"
	CodeSystemIdentityStatusComment = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status-comment"
	CodeSystemIdentifierType        = "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203"
	// CodeSystemCommune and CodeSystemCountry are the ANS code systems of
	// INSEE commune codes (TRE_R13) and country codes (TRE_R20, "99xxx").
	CodeSystemCommune = "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM"
	CodeSystemCountry = "https://mos.esante.gouv.fr/NOS/TRE_R20-Pays/FHIR/TRE-R20-Pays"
)

// extLegacyBirthPlace is the FR Core 1.x birthplace extension, which put
// the INSEE code in valueAddress.district. Read, never written.
const extLegacyBirthPlace = "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-place"

// Traits are the INS traits: the identity attributes that must match the
// national identity server (INSi) for an identity to be qualified.
type Traits struct {
	// BirthName is the birth name (nom de naissance): Patient.name with use
	// "official", family.
	BirthName string
	// BirthGivenNames is the list of birth first names, separated by
	// spaces, as INSi returns it (extension birth-list-given-name).
	BirthGivenNames string
	// FirstGivenName is the first birth first name: official name given[0].
	FirstGivenName string
	// BirthDate is the date of birth as FHIR writes it (YYYY-MM-DD).
	BirthDate string
	Sex       Sex
	// Birthplace is the 5-character INSEE code of the place of birth:
	// commune code, or 99 + country code for a person born abroad.
	Birthplace string
}

// Validate checks that every trait is present and well formed, as an
// INS-carrying identity requires. The error lists every problem found.
func (t Traits) Validate() error {
	var errs []error
	missing := func(name string) { errs = append(errs, fmt.Errorf("ins: trait %s is missing", name)) }
	if t.BirthName == "" {
		missing("birth name")
	}
	if t.BirthGivenNames == "" {
		missing("birth first names")
	}
	if t.FirstGivenName == "" {
		missing("first first name")
	}
	if t.BirthDate == "" {
		missing("birth date")
	} else if !isFHIRDate(t.BirthDate) {
		errs = append(errs, errors.New("ins: trait birth date must be a full date YYYY-MM-DD"))
	}
	if t.Sex != SexMale && t.Sex != SexFemale {
		errs = append(errs, errors.New("ins: trait sex must be male or female"))
	}
	if t.Birthplace == "" {
		missing("birthplace")
	} else if !isINSEECode(t.Birthplace) {
		errs = append(errs, errors.New("ins: trait birthplace is not an INSEE code (5 digits, or 2A/2B + 3 digits)"))
	}
	return errors.Join(errs...)
}

// PatientINS is an INS identifier found on a Patient.
type PatientINS struct {
	INS
	// Use is the Identifier.use ("official"; "temp" for a NIA; "old" for a
	// deactivated INS).
	Use string
}

// Identity is what the platform reads from, and writes to, an FR Core
// Patient about the national identity.
type Identity struct {
	Traits Traits
	INS    []PatientINS
	// Status is the RNIV status, empty when the Patient has none.
	Status     Status
	Attributes []Attribute
}

// FromPatient extracts the identity from an FR Core Patient decoded from
// JSON into map[string]any (with or without json.Decoder.UseNumber). Missing
// elements leave the matching fields empty; an element of the wrong JSON
// type, or an INS identifier that fails ValidateINS, is an error naming the
// element (e.g. "Patient.identifier[1]").
func FromPatient(p map[string]any) (Identity, error) {
	var id Identity
	if rt, err := get[string](p, "resourceType", "Patient"); err != nil {
		return id, err
	} else if rt != "" && rt != "Patient" {
		return id, fmt.Errorf("ins: resourceType is %q, want Patient", rt)
	}
	if err := readOfficialName(p, &id.Traits); err != nil {
		return id, err
	}
	gender, err := get[string](p, "gender", "Patient")
	if err != nil {
		return id, err
	}
	switch gender {
	case "male":
		id.Traits.Sex = SexMale
	case "female":
		id.Traits.Sex = SexFemale
	}
	if id.Traits.BirthDate, err = get[string](p, "birthDate", "Patient"); err != nil {
		return id, err
	}
	if err := readExtensions(p, &id); err != nil {
		return id, err
	}
	err = eachObject(p, "identifier", "Patient", func(path string, ident map[string]any) error {
		system, err := get[string](ident, "system", path)
		if err != nil {
			return err
		}
		if _, ok := KindOf(system); !ok {
			return nil
		}
		value, err := get[string](ident, "value", path)
		if err != nil {
			return err
		}
		use, err := get[string](ident, "use", path)
		if err != nil {
			return err
		}
		ins, err := ValidateINS(system, value)
		if err != nil {
			return fmt.Errorf("%s: %w", path, err)
		}
		id.INS = append(id.INS, PatientINS{INS: ins, Use: use})
		return nil
	})
	return id, err
}

// readOfficialName reads the traits carried by the first name with use
// "official" (the birth name in FR Core).
func readOfficialName(p map[string]any, t *Traits) error {
	done := false
	return eachObject(p, "name", "Patient", func(path string, name map[string]any) error {
		if use, err := get[string](name, "use", path); err != nil || use != "official" || done {
			return err
		}
		done = true
		var err error
		if t.BirthName, err = get[string](name, "family", path); err != nil {
			return err
		}
		given, err := get[[]any](name, "given", path)
		if err != nil {
			return err
		}
		if len(given) > 0 {
			s, ok := given[0].(string)
			if !ok {
				return typeError(path+".given[0]", "a string", given[0])
			}
			t.FirstGivenName = s
		}
		return eachObject(name, "extension", path, func(path string, ext map[string]any) error {
			if url, err := get[string](ext, "url", path); err != nil || url != ExtBirthListGivenName {
				return err
			}
			var err error
			t.BirthGivenNames, err = get[string](ext, "valueString", path)
			return err
		})
	})
}

// readExtensions reads the birthplace and the identity reliability.
func readExtensions(p map[string]any, id *Identity) error {
	seenStatus := false
	return eachObject(p, "extension", "Patient", func(path string, ext map[string]any) error {
		url, err := get[string](ext, "url", path)
		if err != nil {
			return err
		}
		switch url {
		case ExtBirthPlace, extLegacyBirthPlace:
			addr, err := get[map[string]any](ext, "valueAddress", path)
			if err != nil || addr == nil {
				return err
			}
			id.Traits.Birthplace, err = readINSEECode(addr, path+".valueAddress")
			return err
		case ExtIdentityReliability:
			if seenStatus {
				return nil // several domains may each carry one: the first wins
			}
			seenStatus = true
			return eachObject(ext, "extension", path, func(path string, sub map[string]any) error {
				url, err := get[string](sub, "url", path)
				if err != nil {
					return err
				}
				switch url {
				case "identityStatus":
					coding, err := get[map[string]any](sub, "valueCoding", path)
					if err != nil || coding == nil {
						return err
					}
					code, err := get[string](coding, "code", path+".valueCoding")
					id.Status = Status(code)
					return err
				case "comment":
					cc, err := get[map[string]any](sub, "valueCodeableConcept", path)
					if err != nil || cc == nil {
						return err
					}
					return eachObject(cc, "coding", path+".valueCodeableConcept", func(path string, coding map[string]any) error {
						code, err := get[string](coding, "code", path)
						if code != "" {
							id.Attributes = append(id.Attributes, Attribute(code))
						}
						return err
					})
				}
				return nil
			})
		}
		return nil
	})
}

// readINSEECode reads the INSEE code of an address: the FR Core 2.x
// insee-code extension, else the district (FR Core 1.x).
func readINSEECode(addr map[string]any, path string) (string, error) {
	code := ""
	err := eachObject(addr, "extension", path, func(path string, ext map[string]any) error {
		if url, err := get[string](ext, "url", path); err != nil || url != ExtAddressINSEECode || code != "" {
			return err
		}
		coding, err := get[map[string]any](ext, "valueCoding", path)
		if err != nil || coding == nil {
			return err
		}
		code, err = get[string](coding, "code", path+".valueCoding")
		return err
	})
	if err != nil || code != "" {
		return code, err
	}
	return get[string](addr, "district", path)
}

// PatientFields builds the identity parts of an FR Core Patient: meta
// (profile), identifier, name, gender, birthDate and extension. The caller
// adds the rest (id, telecom, address…). INS identifiers may be written only
// for a qualified identity with complete traits; anything else is an error
// rather than a Patient the INS rules forbid.
func (id Identity) PatientFields() (map[string]any, error) {
	profile := ProfilePatient
	if len(id.INS) > 0 {
		if !id.Status.CanShareINS() {
			return nil, fmt.Errorf("ins: an identity with status %q cannot carry the INS: only %s can", id.Status, StatusQualified)
		}
		if err := id.Traits.Validate(); err != nil {
			return nil, err
		}
		profile = ProfilePatientINS
	}
	p := map[string]any{
		"resourceType": "Patient",
		"meta":         map[string]any{"profile": []any{profile}},
	}
	var identifiers []any
	for _, ins := range id.INS {
		use := ins.Use
		if use == "" {
			use = "official"
			if ins.Kind == KindNIA {
				use = "temp"
			}
		}
		identifiers = append(identifiers, map[string]any{
			"use":    use,
			"type":   codeableConcept(CodeSystemIdentifierType, ins.Kind.String()),
			"system": ins.Kind.System(),
			"value":  ins.NIR.String(),
		})
	}
	if identifiers != nil {
		p["identifier"] = identifiers
	}
	t := id.Traits
	if t.BirthName != "" || t.FirstGivenName != "" || t.BirthGivenNames != "" {
		name := map[string]any{"use": "official"}
		if t.BirthName != "" {
			name["family"] = t.BirthName
		}
		if t.FirstGivenName != "" {
			name["given"] = []any{t.FirstGivenName}
		}
		if t.BirthGivenNames != "" {
			name["extension"] = []any{map[string]any{"url": ExtBirthListGivenName, "valueString": t.BirthGivenNames}}
		}
		p["name"] = []any{name}
	}
	if t.Sex != SexUnknown {
		p["gender"] = t.Sex.String()
	}
	if t.BirthDate != "" {
		p["birthDate"] = t.BirthDate
	}
	var exts []any
	if id.Status != "" || len(id.Attributes) > 0 {
		var subs []any
		if id.Status != "" {
			subs = append(subs, map[string]any{"url": "identityStatus", "valueCoding": coding(CodeSystemIdentityStatus, string(id.Status))})
		}
		for _, a := range id.Attributes {
			subs = append(subs, map[string]any{"url": "comment", "valueCodeableConcept": codeableConcept(CodeSystemIdentityStatusComment, string(a))})
		}
		exts = append(exts, map[string]any{"url": ExtIdentityReliability, "extension": subs})
	}
	if t.Birthplace != "" {
		system := CodeSystemCommune
		if strings.HasPrefix(t.Birthplace, "99") {
			system = CodeSystemCountry
		}
		exts = append(exts, map[string]any{
			"url": ExtBirthPlace,
			"valueAddress": map[string]any{"extension": []any{
				map[string]any{"url": ExtAddressINSEECode, "valueCoding": coding(system, t.Birthplace)},
			}},
		})
	}
	if exts != nil {
		p["extension"] = exts
	}
	return p, nil
}

func coding(system, code string) map[string]any {
	return map[string]any{"system": system, "code": code}
}

func codeableConcept(system, code string) map[string]any {
	return map[string]any{"coding": []any{coding(system, code)}}
}

// get returns obj[key] as a T, the zero T when the key is absent or null,
// and an error naming path.key when the value has another JSON type.
func get[T any](obj map[string]any, key, path string) (T, error) {
	var zero T
	v, ok := obj[key]
	if !ok || v == nil {
		return zero, nil
	}
	t, ok := v.(T)
	if !ok {
		return zero, typeError(path+"."+key, jsonType(zero), v)
	}
	return t, nil
}

// eachObject calls fn for every element of the array obj[key], each of
// which must be a JSON object; fn receives the element's path.
func eachObject(obj map[string]any, key, path string, fn func(path string, elem map[string]any) error) error {
	arr, err := get[[]any](obj, key, path)
	if err != nil {
		return err
	}
	for i, e := range arr {
		p := fmt.Sprintf("%s.%s[%d]", path, key, i)
		m, ok := e.(map[string]any)
		if !ok {
			return typeError(p, "an object", e)
		}
		if err := fn(p, m); err != nil {
			return err
		}
	}
	return nil
}

func typeError(path, want string, got any) error {
	return fmt.Errorf("ins: %s: want %s, got %s", path, want, jsonType(got))
}

func jsonType(v any) string {
	switch v.(type) {
	case string:
		return "a string"
	case []any:
		return "an array"
	case map[string]any:
		return "an object"
	case bool:
		return "a boolean"
	case float64, json.Number:
		return "a number"
	case nil:
		return "null"
	}
	return fmt.Sprintf("%T", v)
}

// isFHIRDate reports whether s is a full FHIR date, YYYY-MM-DD, with a
// month 01–12 and a day 01–31.
func isFHIRDate(s string) bool {
	if len(s) != 10 || s[4] != '-' || s[7] != '-' {
		return false
	}
	for i, c := range []byte(s) {
		if i != 4 && i != 7 && (c < '0' || c > '9') {
			return false
		}
	}
	m, d := twoDigits(s[5:7]), twoDigits(s[8:10])
	return m >= 1 && m <= 12 && d >= 1 && d <= 31
}

// isINSEECode reports whether s has the shape of an INSEE commune or
// country code: 5 digits, or 2A/2B followed by 3 digits.
func isINSEECode(s string) bool {
	if len(s) != 5 {
		return false
	}
	for i, c := range []byte(s) {
		if c >= '0' && c <= '9' || i == 1 && s[0] == '2' && (c == 'A' || c == 'B') {
			continue
		}
		return false
	}
	return true
}
