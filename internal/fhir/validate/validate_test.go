package validate_test

import (
	"encoding/json"
	"fmt"
	"reflect"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/validate"
)

// issueKeys renders issues as "code path" for comparison.
func issueKeys(issues []validate.Issue) []string {
	var out []string
	for _, is := range issues {
		out = append(out, is.Code+" "+is.Path)
	}
	return out
}

func TestInvalid(t *testing.T) {
	tests := []struct {
		name string
		json string
		want []string // "code path", in order
		msg  string   // expected in the first issue's message
	}{
		{"unknown resourceType", `{"resourceType":"Patiente"}`,
			[]string{"invalid resourceType"}, `unknown resourceType "Patiente"`},
		{"resourceType not a string", `{"resourceType":7}`,
			[]string{"invalid resourceType"}, "unknown resourceType 7"},
		{"missing resourceType", `{"id":"x"}`,
			[]string{"required resourceType"}, "missing resourceType"},
		{"unknown element", `{"resourceType":"Patient","nom":"Martin"}`,
			[]string{"structure Patient.nom"}, "unknown element nom in Patient"},
		{"unknown nested element", `{"resourceType":"Patient","name":[{"family":"M","surname":"N"}]}`,
			[]string{"structure Patient.name[0].surname"}, "unknown element surname in HumanName"},
		{"string for boolean", `{"resourceType":"Patient","active":"true"}`,
			[]string{"structure Patient.active"}, "boolean is a JSON boolean, got string"},
		{"object for string", `{"resourceType":"Patient","name":[{"family":{"value":"M"}}]}`,
			[]string{"structure Patient.name[0].family"}, "string is a JSON string, got object"},
		{"string for object", `{"resourceType":"Patient","maritalStatus":"M"}`,
			[]string{"structure Patient.maritalStatus"}, "expected a JSON object (CodeableConcept), got string"},
		{"number for string", `{"resourceType":"Patient","id":123}`,
			[]string{"structure Patient.id"}, "id is a JSON string, got number"},
		{"string for decimal", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueQuantity":{"value":"1.5"}}`,
			[]string{"structure Observation.valueQuantity.value"}, "decimal is a JSON number, got string"},
		{"array where single", `{"resourceType":"Patient","gender":["male"]}`,
			[]string{"structure Patient.gender"}, "gender does not repeat"},
		{"single where array", `{"resourceType":"Patient","name":{"family":"Martin"}}`,
			[]string{"structure Patient.name"}, "name repeats: its value must be an array"},
		{"single where array of primitives", `{"resourceType":"Patient","name":[{"given":"Claire"}]}`,
			[]string{"structure Patient.name[0].given"}, "given repeats"},
		{"bad date month", `{"resourceType":"Patient","birthDate":"2021-13-01"}`,
			[]string{"value Patient.birthDate"}, `invalid date "2021-13-01"`},
		{"impossible date", `{"resourceType":"Patient","birthDate":"2021-02-29"}`,
			[]string{"value Patient.birthDate"}, "day 29 does not exist in 2021-02"},
		{"date with time", `{"resourceType":"Patient","birthDate":"2021-02-01T10:00:00Z"}`,
			[]string{"value Patient.birthDate"}, "without time"},
		{"dateTime without zone", `{"resourceType":"Patient","deceasedDateTime":"2021-02-01T10:00:00"}`,
			[]string{"value Patient.deceasedDateTime"}, "needs a time zone"},
		{"dateTime bad zone", `{"resourceType":"Patient","deceasedDateTime":"2021-02-01T10:00:00+15:00"}`,
			[]string{"value Patient.deceasedDateTime"}, "time zone offset out of range"},
		{"dateTime hour 24", `{"resourceType":"Patient","deceasedDateTime":"2021-02-01T24:00:00Z"}`,
			[]string{"value Patient.deceasedDateTime"}, "a dateTime is"},
		{"partial instant", `{"resourceType":"Patient","meta":{"lastUpdated":"2021-02-01"}}`,
			[]string{"value Patient.meta.lastUpdated"}, "an instant is"},
		{"bad time", `{"resourceType":"Patient","extension":[{"url":"http://x","valueTime":"25:00:00"}]}`,
			[]string{"value Patient.extension[0].valueTime"}, "a time is"},
		{"empty string", `{"resourceType":"Patient","name":[{"family":""}]}`,
			[]string{"value Patient.name[0].family"}, "empty string is not allowed"},
		{"null", `{"resourceType":"Patient","gender":null}`,
			[]string{"structure Patient.gender"}, "null is not allowed"},
		{"null in array", `{"resourceType":"Patient","name":[null]}`,
			[]string{"structure Patient.name[0]"}, "null is not allowed in an array"},
		{"null primitive without companion", `{"resourceType":"Patient","name":[{"given":["A",null]}]}`,
			[]string{"structure Patient.name[0].given[1]"}, "only to align with _given"},
		{"empty array", `{"resourceType":"Patient","name":[]}`,
			[]string{"structure Patient.name"}, "empty array"},
		{"empty object", `{"resourceType":"Patient","maritalStatus":{}}`,
			[]string{"structure Patient.maritalStatus"}, "empty object"},
		{"element with only an id", `{"resourceType":"Patient","maritalStatus":{"id":"m"}}`,
			[]string{"structure Patient.maritalStatus"}, "ele-1"},
		{"missing required", `{"resourceType":"Observation"}`,
			[]string{"required Observation.status", "required Observation.code"}, "missing required element status"},
		{"missing required nested", `{"resourceType":"Patient","link":[{"type":"seealso"}]}`,
			[]string{"required Patient.link[0].other"}, "missing required element other"},
		{"missing required choice", `{"resourceType":"MedicationRequest","status":"active","intent":"order","subject":{"reference":"Patient/1"}}`,
			[]string{"required MedicationRequest.medication[x]"}, "medication[x]"},
		{"bad gender", `{"resourceType":"Patient","gender":"M"}`,
			[]string{"code-invalid Patient.gender"}, `code "M" is not in the value set http://hl7.org/fhir/ValueSet/administrative-gender (allowed: female, male, other, unknown)`},
		{"bad observation status", `{"resourceType":"Observation","status":"done","code":{"text":"x"}}`,
			[]string{"code-invalid Observation.status"}, "observation-status"},
		{"bad document status", `{"resourceType":"DocumentReference","status":"draft","content":[{"attachment":{"url":"http://x"}}]}`,
			[]string{"code-invalid DocumentReference.status"}, "current, entered-in-error, superseded"},
		{"code with trailing space", `{"resourceType":"Patient","gender":"male "}`,
			[]string{"value Patient.gender"}, "trailing whitespace"},
		{"choice with two values", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueString":"a","valueQuantity":{"value":1}}`,
			[]string{"structure Observation.valueString"}, "value[x] has only one value: both valueQuantity and valueString are present"},
		{"choice value and other companion", `{"resourceType":"Patient","deceasedBoolean":true,"_deceasedDateTime":{"extension":[{"url":"http://x","valueCode":"y"}]}}`,
			[]string{"structure Patient.deceasedBoolean"}, "both deceasedDateTime and deceasedBoolean"},
		{"unknown choice type", `{"resourceType":"Patient","deceasedString":"yes"}`,
			[]string{"structure Patient.deceasedString"}, "unknown element deceasedString"},
		{"bad id", `{"resourceType":"Patient","id":"a b"}`,
			[]string{"value Patient.id"}, "an id has only letters"},
		{"long id", `{"resourceType":"Patient","id":"` + strings.Repeat("a", 65) + `"}`,
			[]string{"value Patient.id"}, "at most 64"},
		{"uri with space", `{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2 3","value":"x"}]}`,
			[]string{"value Patient.identifier[0].system"}, "whitespace"},
		{"bad oid", `{"resourceType":"Patient","extension":[{"url":"http://x","valueOid":"1.2.250"}]}`,
			[]string{"value Patient.extension[0].valueOid"}, "urn:oid:"},
		{"bad uuid", `{"resourceType":"Patient","extension":[{"url":"http://x","valueUuid":"urn:uuid:ABCDEF01-2345-6789-abcd-ef0123456789"}]}`,
			[]string{"value Patient.extension[0].valueUuid"}, "lower-case"},
		{"bad base64", `{"resourceType":"Binary","contentType":"text/plain","data":"abc"}`,
			[]string{"value Binary.data"}, "multiple of 4"},
		{"integer with fraction", `{"resourceType":"Patient","multipleBirthInteger":1.5}`,
			[]string{"value Patient.multipleBirthInteger"}, "no fraction"},
		{"integer out of range", `{"resourceType":"Patient","multipleBirthInteger":2147483648}`,
			[]string{"value Patient.multipleBirthInteger"}, "32-bit"},
		{"negative unsignedInt", `{"resourceType":"Patient","photo":[{"size":-1}]}`,
			[]string{"value Patient.photo[0].size"}, "unsignedInt"},
		{"zero positiveInt", `{"resourceType":"Observation","status":"final","code":{"text":"x"},"valueSampledData":{"origin":{"value":0},"period":1,"dimensions":0}}`,
			[]string{"value Observation.valueSampledData.dimensions"}, "positiveInt"},
		{"narrative not a div", `{"resourceType":"Patient","text":{"status":"generated","div":"<p>x</p>"}}`,
			[]string{"value Patient.text.div"}, "<div>"},
		{"narrative without div", `{"resourceType":"Patient","text":{"status":"generated"}}`,
			[]string{"required Patient.text.div"}, "div"},
		{"extension without url", `{"resourceType":"Patient","extension":[{"valueString":"x"}]}`,
			[]string{"required Patient.extension[0].url"}, "url"},
		{"extension with two values", `{"resourceType":"Patient","extension":[{"url":"http://x","valueString":"x","valueCode":"y"}]}`,
			[]string{"structure Patient.extension[0].valueString"}, "both valueCode and valueString"},
		{"extension with value and extensions", `{"resourceType":"Patient","extension":[{"url":"http://x","valueString":"x","extension":[{"url":"a","valueCode":"y"}]}]}`,
			[]string{"invariant Patient.extension[0]"}, "ext-1"},
		{"extension without content", `{"resourceType":"Patient","extension":[{"url":"http://x"}]}`,
			[]string{"invariant Patient.extension[0]"}, "ext-1"},
		{"bad modifierExtension", `{"resourceType":"Patient","contact":[{"modifierExtension":[{"url":"http://x","valueFoo":1}]}]}`,
			[]string{"structure Patient.contact[0].modifierExtension[0].valueFoo", "invariant Patient.contact[0].modifierExtension[0]"}, "unknown element valueFoo in Extension"},
		{"companion of a complex element", `{"resourceType":"Patient","_name":[{"id":"x"}]}`,
			[]string{"structure Patient._name"}, "unknown element _name"},
		{"companion not an object", `{"resourceType":"Patient","_birthDate":"x"}`,
			[]string{"structure Patient._birthDate"}, "expected a JSON object"},
		{"companion with unknown element", `{"resourceType":"Patient","birthDate":"2000-01-01","_birthDate":{"value":"x"}}`,
			[]string{"structure Patient._birthDate.value"}, "unknown element value in Element"},
		{"companion arrays misaligned", `{"resourceType":"Patient","name":[{"given":["A","B"],"_given":[null]}]}`,
			[]string{"structure Patient.name[0]._given"}, "must align"},
		{"companion array for single", `{"resourceType":"Patient","birthDate":"2000-01-01","_birthDate":[{"id":"a"}]}`,
			[]string{"structure Patient._birthDate"}, "single object"},
		{"contained error path", `{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o"},{"resourceType":"Practitioner","id":"p","name":[{"family":1}]}]}`,
			[]string{"structure Patient.contained[1].name[0].family"}, "got number"},
		{"contained in contained", `{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o","contained":[{"resourceType":"Organization","id":"p"}]}]}`,
			[]string{"invariant Patient.contained[0].contained"}, "dom-2"},
		{"contained unknown type", `{"resourceType":"Patient","contained":[{"resourceType":"Bot","id":"b"}]}`,
			[]string{"invalid Patient.contained[0].resourceType"}, "unknown resourceType"},
		{"bundle entry path", `{"resourceType":"Bundle","type":"collection","entry":[{"resource":{"resourceType":"Patient"}},{"resource":{"resourceType":"Patient"}},{"resource":{"resourceType":"Patient","birthDate":"2021-13-01"}}]}`,
			[]string{"value Bundle.entry[2].resource.birthDate"}, "2021-13-01"},
		{"bundle type", `{"resourceType":"Bundle","type":"batch-request"}`,
			[]string{"code-invalid Bundle.type"}, "transaction"},
		{"bundle HTTP verb", `{"resourceType":"Bundle","type":"transaction","entry":[{"request":{"method":"post","url":"Patient"}}]}`,
			[]string{"code-invalid Bundle.entry[0].request.method"}, "GET, HEAD, PATCH, POST, PUT"},
		{"bundle response outcome type", `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"200","outcome":{"resourceType":"Patient"}}}]}`,
			[]string{"structure Bundle.entry[0].response.outcome.resourceType"}, "resourceType Patient where OperationOutcome is expected"},
		{"parameters resource", `{"resourceType":"Parameters","parameter":[{"name":"p","resource":{"resourceType":"Patient","gender":"x"}}]}`,
			[]string{"code-invalid Parameters.parameter[0].resource.gender"}, "administrative-gender"},
		{"parameters part", `{"resourceType":"Parameters","parameter":[{"name":"p","part":[{"valueBool":true}]}]}`,
			[]string{"structure Parameters.parameter[0].part[0].valueBool", "required Parameters.parameter[0].part[0].name"}, "unknown element valueBool"},
		{"several issues in order", `{"resourceType":"Patient","zeta":1,"alpha":2,"gender":"x","name":[{"given":[""]}]}`,
			[]string{"structure Patient.alpha", "code-invalid Patient.gender", "value Patient.name[0].given[0]", "structure Patient.zeta"}, "alpha"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			issues := validate.Resource(decode(t, []byte(tt.json)))
			if got := issueKeys(issues); !reflect.DeepEqual(got, tt.want) {
				t.Fatalf("issues %q, want %q\n%+v", got, tt.want, issues)
			}
			if !strings.Contains(issues[0].Message, tt.msg) {
				t.Errorf("message %q, want it to contain %q", issues[0].Message, tt.msg)
			}
			for _, is := range issues {
				if is.Severity != "error" {
					t.Errorf("severity %q", is.Severity)
				}
			}
		})
	}
}

func TestValid(t *testing.T) {
	tests := []struct{ name, json string }{
		{"minimal", `{"resourceType":"Patient"}`},
		{"partial dates", `{"resourceType":"Patient","birthDate":"1980","deceasedDateTime":"2020-02"}`},
		{"leap day and leap second", `{"resourceType":"Patient","birthDate":"2000-02-29","deceasedDateTime":"2016-12-31T23:59:60Z"}`},
		{"extreme zones", `{"resourceType":"Patient","deceasedDateTime":"2016-12-31T23:59:59.123456-14:00","meta":{"lastUpdated":"2016-12-31T23:59:59+14:00"}}`},
		{"primitive extension without value", `{"resourceType":"Patient","_birthDate":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]}}`},
		{"primitive extension with value", `{"resourceType":"Patient","birthDate":"1980-01-15","_birthDate":{"id":"b","extension":[{"url":"http://hl7.org/fhir/StructureDefinition/patient-birthTime","valueDateTime":"1980-01-15T08:30:00+01:00"}]}}`},
		{"aligned primitive arrays", `{"resourceType":"Patient","name":[{"given":["Claire",null,"Anne"],"_given":[null,{"extension":[{"url":"http://x","valueString":"y"}]},{"id":"g3"}]}]}`},
		{"companion array alone", `{"resourceType":"Patient","name":[{"_given":[{"extension":[{"url":"http://x","valueString":"y"}]}]}]}`},
		{"choice value with its companion", `{"resourceType":"Patient","deceasedBoolean":false,"_deceasedBoolean":{"id":"d"}}`},
		{"required element given as companion", `{"resourceType":"Observation","_status":{"extension":[{"url":"http://hl7.org/fhir/StructureDefinition/data-absent-reason","valueCode":"unknown"}]},"code":{"text":"x"}}`},
		{"nested extensions", `{"resourceType":"Patient","extension":[{"url":"http://x","extension":[{"url":"a","valueInteger":-0},{"url":"b","valueDecimal":1.50e-3}]}]}`},
		{"contained and bundle", `{"resourceType":"Bundle","type":"transaction","entry":[{"fullUrl":"urn:uuid:0c3e8b4e-8f9a-4c5b-9e1d-2f3a4b5c6d7e","resource":{"resourceType":"Patient","contained":[{"resourceType":"Organization","id":"o1"}],"managingOrganization":{"reference":"#o1"}},"request":{"method":"POST","url":"Patient"}}]}`},
		{"base64 with whitespace between groups", `{"resourceType":"Binary","contentType":"text/plain","data":"SGVs bG8g\nV29y bGQ="}`},
		{"code with inner spaces", `{"resourceType":"Patient","identifier":[{"type":{"coding":[{"code":"A B"}]}}]}`},
		{"open type keeps other elements", `{"resourceType":"EvidenceVariable","status":"draft","characteristic":[{"definitionCodeableConcept":{"text":"x"}}]}`},
		{"operation outcome in response", `{"resourceType":"Bundle","type":"batch-response","entry":[{"response":{"status":"400","outcome":{"resourceType":"OperationOutcome","issue":[{"severity":"error","code":"structure"}]}}}]}`},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			if issues := validate.Resource(decode(t, []byte(tt.json))); issues != nil {
				t.Errorf("issues %+v", issues)
			}
		})
	}
}

// TestFloatNumbers checks resources decoded without UseNumber.
func TestFloatNumbers(t *testing.T) {
	var res map[string]any
	if err := json.Unmarshal([]byte(`{"resourceType":"Patient","multipleBirthInteger":2,"photo":[{"size":1.5}]}`), &res); err != nil {
		t.Fatal(err)
	}
	if got := issueKeys(validate.Resource(res)); !reflect.DeepEqual(got, []string{"value Patient.photo[0].size"}) {
		t.Errorf("issues %q", got)
	}
}

// TestMaxIssues checks the cap and that the report is the same every time,
// whatever the map iteration order.
func TestMaxIssues(t *testing.T) {
	var b strings.Builder
	b.WriteString(`{"resourceType":"Patient"`)
	for i := range 150 {
		fmt.Fprintf(&b, `,"x%03d":1`, i)
	}
	b.WriteString(`}`)
	res := decode(t, []byte(b.String()))
	first := validate.Resource(res)
	if len(first) != validate.MaxIssues || first[0].Path != "Patient.x000" || first[99].Path != "Patient.x099" {
		t.Fatalf("%d issues, first %v, last %v", len(first), first[0], first[len(first)-1])
	}
	for range 20 {
		if again := validate.Resource(res); !reflect.DeepEqual(again, first) {
			t.Fatal("issues differ between runs")
		}
	}
}
