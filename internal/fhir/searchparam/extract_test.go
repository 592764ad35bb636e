package searchparam_test

import (
	"bytes"
	"encoding/json"
	"fmt"
	"strings"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
)

// decode decodes a resource as the server does.
func decode(t *testing.T, src string) map[string]any {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(src))
	d.UseNumber()
	var res map[string]any
	if err := d.Decode(&res); err != nil {
		t.Fatal(err)
	}
	return res
}

// at returns the instant of an RFC 3339 string.
func at(s string) time.Time {
	v, err := time.Parse(time.RFC3339Nano, s)
	if err != nil {
		panic(err)
	}
	return v.UTC()
}

func TestExtract(t *testing.T) {
	tests := []struct {
		name, resource, code string
		want                 []searchparam.Value
	}{
		{
			name:     "HumanName parts",
			resource: `{"resourceType":"Patient","name":[{"family":"Dupré","given":["Élodie","Marie"],"prefix":["Mme"],"text":"Mme Élodie Dupré"},{"given":["Élodie"]}]}`,
			code:     "name",
			want: []searchparam.Value{
				{Text: "Mme Élodie Dupré", Norm: "mme elodie dupre"},
				{Text: "Dupré", Norm: "dupre"},
				{Text: "Élodie", Norm: "elodie"},
				{Text: "Marie", Norm: "marie"},
				{Text: "Mme", Norm: "mme"},
			},
		},
		{
			name:     "family only",
			resource: `{"resourceType":"Patient","name":[{"family":"Dupré","given":["Élodie"]}]}`,
			code:     "family",
			want:     []searchparam.Value{{Text: "Dupré", Norm: "dupre"}},
		},
		{
			name:     "Address parts",
			resource: `{"resourceType":"Patient","address":[{"line":["3 rue de la Paix","Bât. B"],"city":"Saint-Étienne","district":"Loire","state":"ARA","postalCode":"42000","country":"FR","use":"home"}]}`,
			code:     "address",
			want: []searchparam.Value{
				{Text: "3 rue de la Paix", Norm: "3 rue de la paix"},
				{Text: "Bât. B", Norm: "bat. b"},
				{Text: "Saint-Étienne", Norm: "saint-etienne"},
				{Text: "Loire", Norm: "loire"},
				{Text: "ARA", Norm: "ara"},
				{Text: "42000", Norm: "42000"},
				{Text: "FR", Norm: "fr"},
			},
		},
		{
			name:     "ContactPoint filtered by system",
			resource: `{"resourceType":"Patient","telecom":[{"system":"email","value":"a@example.org"},{"system":"phone","value":"+33 1 02 03 04 05","use":"home"}]}`,
			code:     "phone",
			want:     []searchparam.Value{{System: "phone", Code: "+33 1 02 03 04 05"}},
		},
		{
			name:     "code and boolean",
			resource: `{"resourceType":"Patient","gender":"female","active":false}`,
			code:     "active",
			want:     []searchparam.Value{{Code: "false"}},
		},
		{
			name:     "Identifier with type text",
			resource: `{"resourceType":"Patient","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"2800575123456","type":{"text":"INS-NIR"}},{"value":"local"}]}`,
			code:     "identifier",
			want: []searchparam.Value{
				{System: "urn:oid:1.2.250.1.213.1.4.8", Code: "2800575123456", Text: "INS-NIR", Norm: "ins-nir"},
				{Code: "local"},
			},
		},
		{
			name: "CodeableConcept codings and text",
			resource: `{"resourceType":"Observation","code":{"coding":[
				{"system":"http://loinc.org","code":"8302-2","display":"Body height"},
				{"system":"http://loinc.org","code":"8302-2","display":"Body height"},
				{"system":"urn:local","code":"h"}],"text":"Taille"}}`,
			code: "code",
			want: []searchparam.Value{
				{System: "http://loinc.org", Code: "8302-2", Text: "Body height", Norm: "body height"},
				{System: "urn:local", Code: "h", Text: "Taille", Norm: "taille"},
				{Text: "Taille", Norm: "taille"},
			},
		},
		{
			name:     "CodeableConcept text only",
			resource: `{"resourceType":"Observation","code":{"text":"Taille debout"}}`,
			code:     "code",
			want:     []searchparam.Value{{Text: "Taille debout", Norm: "taille debout"}},
		},
		{
			name:     "as CodeableConcept skips a Quantity",
			resource: `{"resourceType":"Observation","valueQuantity":{"value":176,"system":"http://unitsofmeasure.org","code":"cm"}}`,
			code:     "value-concept",
			want:     nil,
		},
		{
			name:     "Quantity",
			resource: `{"resourceType":"Observation","valueQuantity":{"value":176.50,"unit":"centimètres","system":"http://unitsofmeasure.org","code":"cm"}}`,
			code:     "value-quantity",
			want:     []searchparam.Value{{Number: 176.5, Decimal: "176.50", Unit: "centimètres", System: "http://unitsofmeasure.org", Code: "cm"}},
		},
		{
			name:     "Age is a Quantity; a Range is not indexed",
			resource: `{"resourceType":"Condition","onsetAge":{"value":42,"unit":"a","system":"http://unitsofmeasure.org","code":"a"},"abatementRange":{"low":{"value":1}}}`,
			code:     "onset-age",
			want:     []searchparam.Value{{Number: 42, Decimal: "42", Unit: "a", System: "http://unitsofmeasure.org", Code: "a"}},
		},
		{
			name:     "Money",
			resource: `{"resourceType":"Invoice","totalGross":{"value":12.5,"currency":"EUR"}}`,
			code:     "totalgross",
			want:     []searchparam.Value{{Number: 12.5, Decimal: "12.5", System: "urn:iso:std:iso:4217", Code: "EUR"}},
		},
		{
			name:     "number",
			resource: `{"resourceType":"RiskAssessment","prediction":[{"probabilityDecimal":0.25},{"probabilityRange":{"low":{"value":1}}}]}`,
			code:     "probability",
			want:     []searchparam.Value{{Number: 0.25, Decimal: "0.25"}},
		},
		{
			name:     "date at its precision",
			resource: `{"resourceType":"Patient","birthDate":"1987-05"}`,
			code:     "birthdate",
			want:     []searchparam.Value{{Low: at("1987-05-01T00:00:00Z"), High: at("1987-06-01T00:00:00Z")}},
		},
		{
			name:     "dateTime with zone",
			resource: `{"resourceType":"Observation","effectiveDateTime":"2015-02-07T13:28:17-05:00"}`,
			code:     "date",
			want:     []searchparam.Value{{Low: at("2015-02-07T18:28:17Z"), High: at("2015-02-07T18:28:18Z")}},
		},
		{
			name:     "Period without end",
			resource: `{"resourceType":"Observation","effectivePeriod":{"start":"2015-02"}}`,
			code:     "date",
			want:     []searchparam.Value{{Low: at("2015-02-01T00:00:00Z"), High: searchparam.MaxDate}},
		},
		{
			name:     "Period without start",
			resource: `{"resourceType":"Encounter","period":{"end":"2015-02-07"}}`,
			code:     "date",
			want:     []searchparam.Value{{Low: searchparam.MinDate, High: at("2015-02-08T00:00:00Z")}},
		},
		{
			name:     "Timing outer limits",
			resource: `{"resourceType":"Observation","effectiveTiming":{"event":["2015-03-01","2014-12-31T23:00:00Z"],"repeat":{"boundsPeriod":{"start":"2014-06","end":"2015-01"}}}}`,
			code:     "date",
			want:     []searchparam.Value{{Low: at("2014-06-01T00:00:00Z"), High: at("2015-03-02T00:00:00Z")}},
		},
		{
			name:     "instant",
			resource: `{"resourceType":"Patient","meta":{"lastUpdated":"2024-01-02T03:04:05.678+01:00"}}`,
			code:     "_lastUpdated",
			want:     []searchparam.Value{{Low: at("2024-01-02T02:04:05.678Z"), High: at("2024-01-02T02:04:05.679Z")}},
		},
		{
			name: "references",
			resource: `{"resourceType":"Observation","contained":[{"resourceType":"Patient","id":"p"}],"performer":[
				{"reference":"Practitioner/123"},
				{"reference":"https://fhir.example.org/r4/Practitioner/456/_history/7"},
				{"reference":"urn:uuid:5b2c8a80-2a3e-4d5b-9c4e-1f2a3b4c5d6e","type":"Organization"},
				{"reference":"#p"},
				{"type":"Practitioner","identifier":{"system":"urn:oid:1.2.250.1.71.4.2.1","value":"810000000001"}},
				{"display":"nobody"}]}`,
			code: "performer",
			want: []searchparam.Value{
				{URL: "Practitioner/123", RefType: "Practitioner", RefID: "123"},
				{URL: "https://fhir.example.org/r4/Practitioner/456/_history/7", RefType: "Practitioner", RefID: "456", Version: "7"},
				{URL: "urn:uuid:5b2c8a80-2a3e-4d5b-9c4e-1f2a3b4c5d6e", RefType: "Organization"},
				{URL: "#p", RefType: "Patient"},
				{RefType: "Practitioner", System: "urn:oid:1.2.250.1.71.4.2.1", Code: "810000000001"},
			},
		},
		{
			name: "where(resolve() is Patient)",
			resource: `{"resourceType":"Observation","contained":[{"resourceType":"Patient","id":"p"}],"subject":
				{"reference":"Patient/1"}}`,
			code: "patient",
			want: []searchparam.Value{{URL: "Patient/1", RefType: "Patient", RefID: "1"}},
		},
		{
			name:     "where(resolve() is Patient) drops other types",
			resource: `{"resourceType":"Observation","subject":{"reference":"Group/1"}}`,
			code:     "patient",
			want:     nil,
		},
		{
			name:     "where(resolve() is Patient) cannot tell a urn:uuid",
			resource: `{"resourceType":"Observation","subject":{"reference":"urn:uuid:5b2c8a80-2a3e-4d5b-9c4e-1f2a3b4c5d6e","type":"Patient"}}`,
			code:     "patient",
			want:     nil,
		},
		{
			name:     "where(resolve() is Patient) on a contained patient",
			resource: `{"resourceType":"Observation","contained":[{"resourceType":"Patient","id":"p"}],"subject":{"reference":"#p"}}`,
			code:     "patient",
			want:     []searchparam.Value{{URL: "#p", RefType: "Patient"}},
		},
		{
			name: "canonical, where(type=…)",
			resource: `{"resourceType":"ActivityDefinition","relatedArtifact":[
				{"type":"depends-on","resource":"http://example.org/fhir/Library/lib1|2.0"},
				{"type":"successor","resource":"http://example.org/fhir/ActivityDefinition/next"}]}`,
			code: "depends-on",
			want: []searchparam.Value{{URL: "http://example.org/fhir/Library/lib1", Version: "2.0", RefType: "Library", RefID: "lib1"}},
		},
		{
			name:     "first entry of a Bundle",
			resource: `{"resourceType":"Bundle","type":"document","entry":[{"resource":{"resourceType":"Composition","id":"c1"}},{"resource":{"resourceType":"Patient","id":"p1"}}]}`,
			code:     "composition",
			want:     []searchparam.Value{{URL: "Composition/c1", RefType: "Composition", RefID: "c1"}},
		},
		{
			name:     "uri",
			resource: `{"resourceType":"DocumentReference","meta":{"profile":["http://example.org/StructureDefinition/a","http://example.org/StructureDefinition/a"]}}`,
			code:     "_profile",
			want:     []searchparam.Value{{Text: "http://example.org/StructureDefinition/a"}},
		},
		{
			name:     "deceased, through the FHIRPath library",
			resource: `{"resourceType":"Patient","deceasedDateTime":"2020-01-01"}`,
			code:     "deceased",
			want:     []searchparam.Value{{Code: "true"}},
		},
		{
			name:     "not deceased",
			resource: `{"resourceType":"Patient","id":"p1"}`,
			code:     "deceased",
			want:     []searchparam.Value{{Code: "false"}},
		},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := decode(t, tt.resource)
			vs, err := searchparam.Extract(res["resourceType"].(string), res)
			if err != nil {
				t.Fatal(err)
			}
			var got []searchparam.Value
			for _, v := range vs {
				if v.Param.Code == tt.code {
					v.Param = nil
					got = append(got, v)
				}
			}
			if fmt.Sprintf("%+v", got) != fmt.Sprintf("%+v", tt.want) {
				t.Errorf("%s:\n got %+v\nwant %+v", tt.code, got, tt.want)
			}
		})
	}
}

func TestExtractGroupsByParameter(t *testing.T) {
	res := decode(t, `{"resourceType":"Patient","id":"p1","gender":"male","name":[{"family":"Martin"}],"birthDate":"1950"}`)
	vs, err := searchparam.Extract("Patient", res)
	if err != nil {
		t.Fatal(err)
	}
	var codes []string
	for _, v := range vs {
		if v.Param != mustLookup(t, "Patient", v.Param.Code) {
			t.Errorf("value of %s does not point to the registry's parameter", v.Param.Code)
		}
		codes = append(codes, v.Param.Code)
	}
	want := "_id birthdate deceased family gender name phonetic"
	if strings.Join(codes, " ") != want {
		t.Errorf("codes %q, want %q", strings.Join(codes, " "), want)
	}
}

func mustLookup(t *testing.T, typ, code string) *searchparam.Param {
	p, ok := searchparam.Lookup(typ, code)
	if !ok {
		t.Fatalf("no %s %s", typ, code)
	}
	return p
}

func TestExtractErrors(t *testing.T) {
	tests := []struct {
		typ, resource, want string
	}{
		{"Nope", `{"resourceType":"Nope"}`, `unknown resource type "Nope"`},
		{"Patient", `{"resourceType":"Observation"}`, `resourceType is "Observation", want "Patient"`},
		{"Patient", `{"resourceType":"Patient","birthDate":"1987-13-01"}`, `Patient.birthdate: invalid date "1987-13-01"`},
		{"Observation", `{"resourceType":"Observation","valueQuantity":{"value":1e999}}`, `quantity "1e999"`},
	}
	for _, tt := range tests {
		_, err := searchparam.Extract(tt.typ, decode(t, tt.resource))
		if err == nil || !strings.Contains(err.Error(), tt.want) {
			t.Errorf("Extract(%s) error %v, want one containing %q", tt.resource, err, tt.want)
		}
	}
}

// TestExtractDoesNotModify checks that the resource, shared with other
// readers, is left as it was.
func TestExtractDoesNotModify(t *testing.T) {
	src := `{"resourceType":"Patient","id":"p1","deceasedBoolean":true,"name":[{"family":"Martin"}]}`
	res := decode(t, src)
	if _, err := searchparam.Extract("Patient", res); err != nil {
		t.Fatal(err)
	}
	var buf bytes.Buffer
	if err := json.NewEncoder(&buf).Encode(res); err != nil {
		t.Fatal(err)
	}
	if strings.TrimSpace(buf.String()) != `{"deceasedBoolean":true,"id":"p1","name":[{"family":"Martin"}],"resourceType":"Patient"}` {
		t.Errorf("resource changed: %s", buf.String())
	}
}

// TestExtractConcurrent extracts from many goroutines at once, through the
// native evaluator and the library alike (run with -race).
func TestExtractConcurrent(t *testing.T) {
	srcs := []string{
		`{"resourceType":"Patient","id":"p1","deceasedBoolean":true,"name":[{"family":"Martin"}]}`,
		`{"resourceType":"Observation","subject":{"reference":"Patient/p1"},"code":{"text":"x"},"effectiveDateTime":"2020"}`,
	}
	want := make([]int, len(srcs))
	for i, src := range srcs {
		vs, err := searchparam.Extract(decode(t, src)["resourceType"].(string), decode(t, src))
		if err != nil {
			t.Fatal(err)
		}
		want[i] = len(vs)
	}
	errs := make(chan error, 8)
	for g := 0; g < cap(errs); g++ {
		go func() {
			for i := 0; i < 50; i++ {
				src := srcs[i%len(srcs)]
				d := json.NewDecoder(strings.NewReader(src))
				d.UseNumber()
				var res map[string]any
				_ = d.Decode(&res)
				vs, err := searchparam.Extract(res["resourceType"].(string), res)
				if err == nil && len(vs) != want[i%len(srcs)] {
					err = fmt.Errorf("%d values, want %d", len(vs), want[i%len(srcs)])
				}
				if err != nil {
					errs <- err
					return
				}
			}
			errs <- nil
		}()
	}
	for g := 0; g < cap(errs); g++ {
		if err := <-errs; err != nil {
			t.Error(err)
		}
	}
}
