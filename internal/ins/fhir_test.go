package ins_test

import (
	"bytes"
	"encoding/json"
	"os"
	"reflect"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/ins"
)

// decode decodes a FHIR resource the way the platform does: numbers kept
// as json.Number.
func decode(t *testing.T, data []byte) map[string]any {
	t.Helper()
	d := json.NewDecoder(bytes.NewReader(data))
	d.UseNumber()
	var m map[string]any
	if err := d.Decode(&m); err != nil {
		t.Fatalf("decode: %v", err)
	}
	return m
}

// frCoreINSPatient follows the shape of FR Core's FRCorePatientINSExample,
// with a valid NIR and a second, test, INS whose key is wrong.
const frCoreINSPatient = `{
  "resourceType": "Patient",
  "meta": {"profile": ["https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-ins"]},
  "extension": [
    {"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability",
     "extension": [
       {"url": "identityStatus", "valueCoding": {"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status", "code": "QUAL"}},
       {"url": "comment", "valueCodeableConcept": {"coding": [{"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-identity-status-comment", "code": "HOMA"}]}},
       {"url": "validationDate", "valueDate": "2024-03-01"}
     ]},
    {"url": "http://hl7.org/fhir/StructureDefinition/patient-birthPlace",
     "valueAddress": {
       "extension": [{"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-address-insee-code",
                      "valueCoding": {"system": "https://mos.esante.gouv.fr/NOS/TRE_R13-CommuneOM/FHIR/TRE-R13-CommuneOM", "code": "51215"}}],
       "city": "Épernay"}},
    {"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birthdate-update-indicator", "valueBoolean": false}
  ],
  "identifier": [
    {"use": "usual", "system": "http://hopital.example/ipp", "value": "IPP-1"},
    {"use": "official", "type": {"coding": [{"system": "https://hl7.fr/ig/fhir/core/CodeSystem/fr-core-cs-v2-0203", "code": "INS-NIR"}]},
     "system": "urn:oid:1.2.250.1.213.1.4.8", "value": "279035121518989"},
    {"use": "official", "system": "urn:oid:1.2.250.1.213.1.4.10", "value": "279035121518988"}
  ],
  "name": [
    {"use": "usual", "family": "Martin", "given": ["Marie"]},
    {"use": "official", "family": "Durand", "given": ["Marie", "Claire"],
     "extension": [{"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-list-given-name", "valueString": "Marie Claire Éloïse"}]}
  ],
  "gender": "female",
  "birthDate": "1979-03-12",
  "multipleBirthInteger": 1
}`

func TestFromPatientFRCoreINS(t *testing.T) {
	id, err := ins.FromPatient(decode(t, []byte(frCoreINSPatient)))
	if err != nil {
		t.Fatalf("FromPatient: %v", err)
	}
	wantTraits := ins.Traits{
		BirthName: "Durand", BirthGivenNames: "Marie Claire Éloïse", FirstGivenName: "Marie",
		BirthDate: "1979-03-12", Sex: ins.SexFemale, Birthplace: "51215",
	}
	if id.Traits != wantTraits {
		t.Errorf("traits = %+v\nwant     %+v", id.Traits, wantTraits)
	}
	if err := id.Traits.Validate(); err != nil {
		t.Errorf("Validate: %v", err)
	}
	if id.Status != ins.StatusQualified || !reflect.DeepEqual(id.Attributes, []ins.Attribute{ins.AttrHomonym}) {
		t.Errorf("status %q attributes %v, want QUAL [HOMA]", id.Status, id.Attributes)
	}
	if len(id.INS) != 2 {
		t.Fatalf("INS = %+v, want 2 identifiers", id.INS)
	}
	if got := id.INS[0]; got.Kind != ins.KindNIR || got.Use != "official" || got.NIR.String() != "279035121518989" || len(got.Warnings) != 0 {
		t.Errorf("INS[0] = %+v", got)
	}
	if got := id.INS[1]; got.Kind != ins.KindNIRTest || len(got.Warnings) != 1 {
		t.Errorf("INS[1] = %+v, want a test INS with a key warning", got)
	}
}

func TestFromPatientLegacyBirthPlace(t *testing.T) {
	p := `{"resourceType": "Patient", "extension": [
	  {"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-patient-birth-place",
	   "valueAddress": {"district": "2A004"}}]}`
	id, err := ins.FromPatient(decode(t, []byte(p)))
	if err != nil {
		t.Fatal(err)
	}
	if id.Traits.Birthplace != "2A004" {
		t.Errorf("birthplace = %q, want 2A004 from valueAddress.district", id.Traits.Birthplace)
	}
}

// The PDSm example Patient has no INS and no official name: nothing to
// extract but the date of birth and the gender, and no error.
func TestFromPatientPDSmFixture(t *testing.T) {
	data, err := os.ReadFile("../../../shared/fixtures/pdsm/Patient-fr-patient-123.json")
	if err != nil {
		t.Skipf("shared fixtures not beside the checkout: %v", err)
	}
	id, err := ins.FromPatient(decode(t, data))
	if err != nil {
		t.Fatalf("FromPatient: %v", err)
	}
	want := ins.Traits{BirthDate: "1980-01-15", Sex: ins.SexMale}
	if id.Traits != want || len(id.INS) != 0 || id.Status != "" {
		t.Errorf("identity = %+v, want only %+v", id, want)
	}
	if err := id.Traits.Validate(); err == nil || !strings.Contains(err.Error(), "birth name is missing") {
		t.Errorf("Validate() = %v, want missing traits", err)
	}
}

func TestFromPatientErrors(t *testing.T) {
	tests := []struct {
		name, json, message string
	}{
		{"not a Patient", `{"resourceType": "Practitioner"}`, `resourceType is "Practitioner", want Patient`},
		{"name not an array", `{"name": {"use": "official"}}`, "Patient.name: want an array, got an object"},
		{"given of numbers", `{"name": [{"use": "official", "given": [3]}]}`, "Patient.name[0].given[0]: want a string, got a number"},
		{"gender not a string", `{"gender": true}`, "Patient.gender: want a string, got a boolean"},
		{"extension not an object", `{"extension": ["x"]}`, "Patient.extension[0]: want an object, got a string"},
		{"INS value not a string", `{"identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": 279035121518989}]}`,
			"Patient.identifier[0].value: want a string, got a number"},
		{"production INS with a bad key", `{"identifier": [{}, {"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "279035121518988"}]}`,
			"Patient.identifier[1]: ins: NIR key is 88, want 89"},
		{"FR Core example NIR (month 45)", `{"identifier": [{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "123456789012244"}]}`,
			"month is 45"},
		{"status coding not an object", `{"extension": [{"url": "https://hl7.fr/ig/fhir/core/StructureDefinition/fr-core-identity-reliability",
		  "extension": [{"url": "identityStatus", "valueCoding": "QUAL"}]}]}`,
			"Patient.extension[0].extension[0].valueCoding: want an object, got a string"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := ins.FromPatient(decode(t, []byte(tt.json)))
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("FromPatient error = %v, want one containing %q", err, tt.message)
			}
		})
	}
}

func TestPatientFieldsRoundTrip(t *testing.T) {
	insNIR, err := ins.ValidateINS(ins.SystemNIRDemo, "263092A00412381")
	if err != nil {
		t.Fatal(err)
	}
	insNIA, err := ins.ValidateINS(ins.SystemNIA, "185059921704523")
	if err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name    string
		id      ins.Identity
		profile string
	}{
		{"qualified with INS", ins.Identity{
			Traits: ins.Traits{BirthName: "Colonna", BirthGivenNames: "Maria Letizia", FirstGivenName: "Maria",
				BirthDate: "1963-09-02", Sex: ins.SexFemale, Birthplace: "2A004"},
			INS:        []ins.PatientINS{{INS: insNIR, Use: "official"}, {INS: insNIA, Use: "temp"}},
			Status:     ins.StatusQualified,
			Attributes: []ins.Attribute{ins.AttrHomonym},
		}, ins.ProfilePatientINS},
		{"provisional, born abroad, no INS", ins.Identity{
			Traits: ins.Traits{BirthName: "Tanaka", FirstGivenName: "Kenji", BirthDate: "1985-05-20", Sex: ins.SexMale, Birthplace: "99217"},
			Status: ins.StatusProvisional,
		}, ins.ProfilePatient},
		{"nothing known", ins.Identity{}, ins.ProfilePatient},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			fields, err := tt.id.PatientFields()
			if err != nil {
				t.Fatalf("PatientFields: %v", err)
			}
			data, err := json.Marshal(fields)
			if err != nil {
				t.Fatal(err)
			}
			p := decode(t, data)
			if got := p["meta"].(map[string]any)["profile"].([]any)[0]; got != tt.profile {
				t.Errorf("profile = %v, want %s", got, tt.profile)
			}
			back, err := ins.FromPatient(p)
			if err != nil {
				t.Fatalf("FromPatient(PatientFields()): %v\n%s", err, data)
			}
			if !reflect.DeepEqual(back, tt.id) {
				t.Errorf("round trip:\n got  %+v\n want %+v\n%s", back, tt.id, data)
			}
		})
	}
}

func TestPatientFieldsBirthplaceSystem(t *testing.T) {
	tests := []struct{ birthplace, system string }{
		{"51215", ins.CodeSystemCommune},
		{"2B033", ins.CodeSystemCommune},
		{"99217", ins.CodeSystemCountry},
	}
	for _, tt := range tests {
		fields, err := ins.Identity{Traits: ins.Traits{Birthplace: tt.birthplace}}.PatientFields()
		if err != nil {
			t.Fatal(err)
		}
		data, _ := json.Marshal(fields)
		if !strings.Contains(string(data), `"system":"`+tt.system+`"`) {
			t.Errorf("birthplace %s: %s, want coding system %s", tt.birthplace, data, tt.system)
		}
	}
}

func TestPatientFieldsRefusesINS(t *testing.T) {
	nir, err := ins.ValidateINS(ins.SystemNIR, "279035121518989")
	if err != nil {
		t.Fatal(err)
	}
	full := ins.Traits{BirthName: "Durand", BirthGivenNames: "Marie", FirstGivenName: "Marie",
		BirthDate: "1979-03-12", Sex: ins.SexFemale, Birthplace: "51215"}
	tests := []struct {
		name    string
		id      ins.Identity
		message string
	}{
		{"validated identity", ins.Identity{Traits: full, INS: []ins.PatientINS{{INS: nir}}, Status: ins.StatusValidated},
			`status "VALI" cannot carry the INS`},
		{"no status", ins.Identity{Traits: full, INS: []ins.PatientINS{{INS: nir}}}, `status "" cannot carry the INS`},
		{"qualified, traits incomplete", ins.Identity{Traits: ins.Traits{BirthName: "Durand", BirthDate: "1979-03"},
			INS: []ins.PatientINS{{INS: nir}}, Status: ins.StatusQualified}, "birth first names is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			_, err := tt.id.PatientFields()
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("PatientFields error = %v, want one containing %q", err, tt.message)
			}
		})
	}
}

func TestTraitsValidate(t *testing.T) {
	full := ins.Traits{BirthName: "Durand", BirthGivenNames: "Marie", FirstGivenName: "Marie",
		BirthDate: "1979-03-12", Sex: ins.SexFemale, Birthplace: "2B033"}
	tests := []struct {
		name    string
		change  func(*ins.Traits)
		message string // "" for valid
	}{
		{"complete", func(*ins.Traits) {}, ""},
		{"partial date", func(t *ins.Traits) { t.BirthDate = "1979-03" }, "full date YYYY-MM-DD"},
		{"month 13", func(t *ins.Traits) { t.BirthDate = "1979-13-01" }, "full date"},
		{"unknown sex", func(t *ins.Traits) { t.Sex = ins.SexUnknown }, "sex must be male or female"},
		{"birthplace too short", func(t *ins.Traits) { t.Birthplace = "7505" }, "birthplace is not an INSEE code"},
		{"birthplace lower-case Corsica", func(t *ins.Traits) { t.Birthplace = "2a004" }, "not an INSEE code"},
		{"everything missing", func(t *ins.Traits) { *t = ins.Traits{} }, "first first name is missing"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			tr := full
			tt.change(&tr)
			err := tr.Validate()
			if tt.message == "" {
				if err != nil {
					t.Errorf("Validate() = %v, want nil", err)
				}
				return
			}
			if err == nil || !strings.Contains(err.Error(), tt.message) {
				t.Errorf("Validate() = %v, want an error containing %q", err, tt.message)
			}
		})
	}
}
