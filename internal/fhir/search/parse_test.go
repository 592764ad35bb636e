package search

import (
	"net/url"
	"reflect"
	"strings"
	"testing"
	"time"
)

func day(y int, m time.Month, d int) time.Time { return time.Date(y, m, d, 0, 0, 0, 0, time.UTC) }

func TestParseClauses(t *testing.T) {
	tests := []struct {
		typ, query string
		want       []Clause
	}{
		// string
		{"Patient", "name=peter", []Clause{{Param: "name", Type: String, Values: []Value{{Text: "peter"}}}}},
		{"Patient", "name:exact=Peter", []Clause{{Param: "name", Type: String, Modifier: "exact", Values: []Value{{Text: "Peter"}}}}},
		{"Patient", "name:contains=et", []Clause{{Param: "name", Type: String, Modifier: "contains", Values: []Value{{Text: "et"}}}}},
		{"Patient", "family=a,b", []Clause{{Param: "family", Type: String, Values: []Value{{Text: "a"}, {Text: "b"}}}}},
		{"Patient", `family=a\,b`, []Clause{{Param: "family", Type: String, Values: []Value{{Text: "a,b"}}}}},
		{"Patient", `family=a\\,b`, []Clause{{Param: "family", Type: String, Values: []Value{{Text: `a\`}, {Text: "b"}}}}},
		{"Patient", "family=a&family=b", []Clause{
			{Param: "family", Type: String, Values: []Value{{Text: "a"}}},
			{Param: "family", Type: String, Values: []Value{{Text: "b"}}},
		}},
		// token
		{"Patient", "gender=male", []Clause{{Param: "gender", Type: Token, Values: []Value{{Code: "male"}}}}},
		{"Patient", "identifier=urn:oid:1.2|123", []Clause{{Param: "identifier", Type: Token, Values: []Value{{System: "urn:oid:1.2", Code: "123", HasSystem: true}}}}},
		{"Patient", "identifier=|123", []Clause{{Param: "identifier", Type: Token, Values: []Value{{Code: "123", HasSystem: true}}}}},
		{"Patient", "identifier=http://s|", []Clause{{Param: "identifier", Type: Token, Values: []Value{{System: "http://s", HasSystem: true}}}}},
		{"Patient", `identifier=s|a\|b`, []Clause{{Param: "identifier", Type: Token, Values: []Value{{System: "s", Code: "a|b", HasSystem: true}}}}},
		{"Observation", "code:text=glucose", []Clause{{Param: "code", Type: Token, Modifier: "text", Values: []Value{{Text: "glucose"}}}}},
		{"Observation", "status:not=final", []Clause{{Param: "status", Type: Token, Modifier: "not", Values: []Value{{Code: "final"}}}}},
		{"Patient", "_id=a,b", []Clause{{Param: "_id", Type: Token, Values: []Value{{Code: "a"}, {Code: "b"}}}}},
		// missing
		{"Patient", "birthdate:missing=true", []Clause{{Param: "birthdate", Type: Date, Modifier: "missing", Values: []Value{{Missing: true}}}}},
		{"Patient", "gender:missing=false", []Clause{{Param: "gender", Type: Token, Modifier: "missing", Values: []Value{{Missing: false}}}}},
		// date
		{"Patient", "birthdate=1970", []Clause{{Param: "birthdate", Type: Date, Values: []Value{{Prefix: Eq, Low: day(1970, 1, 1), High: day(1971, 1, 1)}}}}},
		{"Patient", "birthdate=ge1970-02", []Clause{{Param: "birthdate", Type: Date, Values: []Value{{Prefix: Ge, Low: day(1970, 2, 1), High: day(1970, 3, 1)}}}}},
		{"Patient", "birthdate=lt1970-02-03,sa2000-01-01", []Clause{{Param: "birthdate", Type: Date, Values: []Value{
			{Prefix: Lt, Low: day(1970, 2, 3), High: day(1970, 2, 4)},
			{Prefix: Sa, Low: day(2000, 1, 1), High: day(2000, 1, 2)},
		}}}},
		{"Patient", "birthdate=ne1970,eb1980,gt1990,le2000", []Clause{{Param: "birthdate", Type: Date, Values: []Value{
			{Prefix: Ne, Low: day(1970, 1, 1), High: day(1971, 1, 1)},
			{Prefix: Eb, Low: day(1980, 1, 1), High: day(1981, 1, 1)},
			{Prefix: Gt, Low: day(1990, 1, 1), High: day(1991, 1, 1)},
			{Prefix: Le, Low: day(2000, 1, 1), High: day(2001, 1, 1)},
		}}}},
		{"Observation", "date=ap2020-01-01T10:00:00%2B02:00", []Clause{{Param: "date", Type: Date, Values: []Value{
			{Prefix: Ap, Low: time.Date(2020, 1, 1, 8, 0, 0, 0, time.UTC), High: time.Date(2020, 1, 1, 8, 0, 1, 0, time.UTC)},
		}}}},
		{"Patient", "_lastUpdated=gt2024-05-01", []Clause{{Param: "_lastUpdated", Type: Date, Values: []Value{{Prefix: Gt, Low: day(2024, 5, 1), High: day(2024, 5, 2)}}}}},
		// number
		{"RiskAssessment", "probability=gt0.8", []Clause{{Param: "probability", Type: Number, Values: []Value{{Prefix: Gt, Number: "0.8"}}}}},
		{"RiskAssessment", "probability=1e-2,-3", []Clause{{Param: "probability", Type: Number, Values: []Value{{Prefix: Eq, Number: "1e-2"}, {Prefix: Eq, Number: "-3"}}}}},
		// quantity
		{"Observation", "value-quantity=le5.4|http://unitsofmeasure.org|mg", []Clause{{Param: "value-quantity", Type: Quantity, Values: []Value{
			{Prefix: Le, Number: "5.4", System: "http://unitsofmeasure.org", Code: "mg", HasSystem: true},
		}}}},
		{"Observation", "value-quantity=5.4||mg", []Clause{{Param: "value-quantity", Type: Quantity, Values: []Value{{Prefix: Eq, Number: "5.4", Code: "mg"}}}}},
		{"Observation", "value-quantity=5.4", []Clause{{Param: "value-quantity", Type: Quantity, Values: []Value{{Prefix: Eq, Number: "5.4"}}}}},
		// uri
		{"ValueSet", "url=http://x/vs", []Clause{{Param: "url", Type: URI, Values: []Value{{Text: "http://x/vs"}}}}},
		// reference
		{"Observation", "subject=Patient/1", []Clause{{Param: "subject", Type: Reference, Values: []Value{{RefType: "Patient", RefID: "1"}}}}},
		{"Observation", "subject=1", []Clause{{Param: "subject", Type: Reference, Values: []Value{{RefID: "1"}}}}},
		{"Observation", "subject:Patient=1", []Clause{{Param: "subject", Type: Reference, Modifier: "Patient", Values: []Value{{RefType: "Patient", RefID: "1"}}}}},
		{"Observation", "subject=Patient/1/_history/2", []Clause{{Param: "subject", Type: Reference, Values: []Value{{RefType: "Patient", RefID: "1"}}}}},
		{"Observation", "subject=https://carnet.test/fhir/Patient/1", []Clause{{Param: "subject", Type: Reference, Values: []Value{{RefType: "Patient", RefID: "1"}}}}},
		{"Observation", "subject=http://other/fhir/Patient/1", []Clause{{Param: "subject", Type: Reference, Values: []Value{{URL: "http://other/fhir/Patient/1"}}}}},
		{"Observation", "subject:identifier=sys|v", []Clause{{Param: "subject", Type: Reference, Modifier: "identifier", Values: []Value{{System: "sys", Code: "v", HasSystem: true}}}}},
		{"Observation", "encounter=e1", []Clause{{Param: "encounter", Type: Reference, Values: []Value{{RefID: "e1"}}}}},
		{"Observation", "device=d1", []Clause{{Param: "device", Type: Reference, Values: []Value{{RefID: "d1"}}}}},
		{"Observation", "specimen=s1", []Clause{{Param: "specimen", Type: Reference, Values: []Value{{RefType: "Specimen", RefID: "s1"}}}}},
		// chain
		{"Observation", "subject:Patient.identifier=sys|1", []Clause{{Param: "subject", Type: Reference, Chain: &Chain{Type: "Patient",
			Clause: Clause{Param: "identifier", Type: Token, Values: []Value{{System: "sys", Code: "1", HasSystem: true}}}}}}},
		{"Observation", "patient.name:exact=Peter", []Clause{{Param: "patient", Type: Reference, Chain: &Chain{Type: "Patient",
			Clause: Clause{Param: "name", Type: String, Modifier: "exact", Values: []Value{{Text: "Peter"}}}}}}},
		{"Encounter", "subject.birthdate=ge2000", []Clause{{Param: "subject", Type: Reference, Chain: &Chain{Type: "Patient",
			Clause: Clause{Param: "birthdate", Type: Date, Values: []Value{{Prefix: Ge, Low: day(2000, 1, 1), High: day(2001, 1, 1)}}}}}}},
		// _has
		{"Patient", "_has:Observation:patient:code=1234-5", []Clause{{Param: "_has", Type: Reference, Has: &Has{Type: "Observation", Ref: "patient",
			Clause: Clause{Param: "code", Type: Token, Values: []Value{{Code: "1234-5"}}}}}}},
		{"Patient", "_has:Observation:subject:status:not=final", []Clause{{Param: "_has", Type: Reference, Has: &Has{Type: "Observation", Ref: "subject",
			Clause: Clause{Param: "status", Type: Token, Modifier: "not", Values: []Value{{Code: "final"}}}}}}},
	}
	for _, tc := range tests {
		t.Run(tc.typ+"?"+tc.query, func(t *testing.T) {
			req := mustParse(t, tc.typ, tc.query)
			if !reflect.DeepEqual(req.Query.Where, tc.want) {
				t.Errorf("Where =\n%+v\nwant\n%+v", req.Query.Where, tc.want)
			}
			if len(req.Ignored) > 0 {
				t.Errorf("Ignored = %v", req.Ignored)
			}
		})
	}
}

func mustParse(t *testing.T, typ, query string) *Request {
	t.Helper()
	params, err := url.ParseQuery(query)
	if err != nil {
		t.Fatal(err)
	}
	req, err := Parse(typ, params, Options{Base: "https://carnet.test/fhir"})
	if err != nil {
		t.Fatalf("Parse(%s?%s): %v", typ, query, err)
	}
	return req
}

func TestParseResultParams(t *testing.T) {
	tests := []struct {
		typ, query string
		check      func(*Request) bool
	}{
		{"Patient", "_count=10", func(r *Request) bool { return r.Query.Count == 10 && !r.Query.SummaryCount }},
		{"Patient", "_count=0", func(r *Request) bool { return r.Query.SummaryCount && r.Query.Total == TotalAccurate }},
		{"Patient", "_summary=count", func(r *Request) bool { return r.Query.SummaryCount && r.Query.Total == TotalAccurate }},
		{"Patient", "_summary=text", func(r *Request) bool { return r.Summary == "text" }},
		{"Patient", "_total=accurate", func(r *Request) bool { return r.Query.Total == TotalAccurate }},
		{"Patient", "_total=none", func(r *Request) bool { return r.Query.Total == TotalNone }},
		{"Patient", "_elements=name,birthDate", func(r *Request) bool { return reflect.DeepEqual(r.Elements, []string{"name", "birthDate"}) }},
		{"Observation", "_sort=-date,status,_lastUpdated", func(r *Request) bool {
			return reflect.DeepEqual(r.Query.Sort, []SortKey{{"date", Date, true}, {"status", Token, false}, {"_lastUpdated", Date, false}})
		}},
		{"Observation", "_include=Observation:subject:Patient&_include=Observation:performer", func(r *Request) bool {
			return reflect.DeepEqual(r.Query.Include, []Include{{Type: "Observation", Param: "subject", Target: "Patient"}, {Type: "Observation", Param: "performer"}})
		}},
		{"Observation", "_include=*", func(r *Request) bool {
			return reflect.DeepEqual(r.Query.Include, []Include{{Type: "Observation", Param: "*"}})
		}},
		{"Patient", "_revinclude=Observation:subject&_include:iterate=Encounter:service-provider", func(r *Request) bool {
			return reflect.DeepEqual(r.Query.RevInclude, []Include{{Type: "Observation", Param: "subject"}}) &&
				reflect.DeepEqual(r.Query.Include, []Include{{Type: "Encounter", Param: "service-provider", Iterate: true}})
		}},
		{"Observation", "patient=Patient/p1", func(r *Request) bool { return r.Query.Compartment == "p1" }},
		{"Observation", "patient=p1", func(r *Request) bool { return r.Query.Compartment == "p1" && len(r.Query.Where) == 1 }},
		{"Observation", "patient=p1,p2", func(r *Request) bool { return r.Query.Compartment == "" }},
		{"Organization", "name=x", func(r *Request) bool { return r.Query.Compartment == "" }},
		{"Immunization", "patient=p1", func(r *Request) bool { return r.Query.Compartment == "p1" }},
		{"Coverage", "patient=p1", func(r *Request) bool { return r.Query.Compartment == "" }},
	}
	for _, tc := range tests {
		t.Run(tc.typ+"?"+tc.query, func(t *testing.T) {
			if req := mustParse(t, tc.typ, tc.query); !tc.check(req) {
				t.Errorf("unexpected result: %+v", req)
			}
		})
	}
}

func TestParseIgnored(t *testing.T) {
	tests := []struct {
		typ, query string
		ignored    []string
		applied    []string
	}{
		{"Patient", "foo=1&name=x", []string{"foo"}, []string{"name"}},
		{"Patient", "_text=x&_content=y&_query=q&_contained=true", []string{"_contained", "_content", "_query", "_text"}, nil},
		{"Patient", "_summary=true&gender=male", []string{"_summary"}, []string{"gender"}},
		{"Observation", "code-value-quantity=a$1", []string{"code-value-quantity"}, nil},
		{"Observation", "subject.nothing=1", []string{"subject.nothing"}, nil},
		{"Location", "near=1|2|3|km", []string{"near"}, nil},
	}
	for _, tc := range tests {
		t.Run(tc.typ+"?"+tc.query, func(t *testing.T) {
			req := mustParse(t, tc.typ, tc.query)
			var ignored, applied []string
			for _, ig := range req.Ignored {
				ignored = append(ignored, ig.Param)
				if ig.Reason == "" {
					t.Errorf("%s ignored without a reason", ig.Param)
				}
			}
			for k := range req.Applied {
				applied = append(applied, k)
			}
			if !reflect.DeepEqual(ignored, tc.ignored) || !reflect.DeepEqual(applied, tc.applied) {
				t.Errorf("ignored %v applied %v, want %v and %v", ignored, applied, tc.ignored, tc.applied)
			}
		})
	}
}

func TestParseErrors(t *testing.T) {
	tests := []struct {
		typ, query string
		param      string // the parameter the error must name
		message    string // part of the message
	}{
		{"Patient", "birthdate=1970-13", "birthdate", "invalid date"},
		{"Patient", "birthdate=ge2020-01-01T10:00:00+01:00", "birthdate", "%2B"},
		{"Patient", "birthdate=", "birthdate", "empty value"},
		{"Patient", "name:foo=x", "name:foo", "modifier :foo"},
		{"Patient", "gender:exact=x", "gender:exact", "modifier :exact"},
		{"ValueSet", "url:below=http://x", "url:below", "not supported"},
		{"Patient", "gender:missing=maybe", "gender:missing", "true or false"},
		{"RiskAssessment", "probability=abc", "probability", "invalid number"},
		{"RiskAssessment", "probability=1e400", "probability", "out of range"},
		{"Observation", "value-quantity=1e400||mg", "value-quantity", "out of range"},
		{"Patient", "name=a%00b", "name", "NUL"},
		{"Patient", "name=%FF", "name", "UTF-8"},
		{"Observation", "value-quantity=5|mg", "value-quantity", "invalid quantity"},
		{"Observation", "subject=Foo/1", "subject", "not a FHIR R4 resource type"},
		{"Observation", "subject=a/b/c", "subject", "invalid reference"},
		{"Observation", "subject:Organization=1", "subject:Organization", "cannot refer"},
		{"Observation", "subject:Patient=Group/1", "subject:Patient", "contradicts"},
		{"Observation", "subject.name=x", "subject.name", "subject:"},
		{"Observation", "subject:Patient.organization.name=x", "subject:Patient.organization.name", "one level"},
		{"Observation", "code.name=x", "code.name", "only reference parameters"},
		{"Patient", "_has:Observation:patient=x", "_has:Observation:patient", "_has:Type"},
		{"Patient", "_has:Foo:patient:code=x", "_has:Foo:patient:code", "resource type"},
		{"Patient", "_has:Observation:code:code=x", "_has:Observation:code:code", "no reference parameter"},
		{"Patient", "_has:Observation:patient:date=x", "_has:Observation:patient:date", "invalid date"},
		{"Patient", "_count=-1", "_count", "number"},
		{"Patient", "_count=ten", "_count", "number"},
		{"Patient", "_count=1&_count=2", "_count", "once"},
		{"Patient", "_sort=nothing", "_sort", "nothing"},
		{"Observation", "_sort=code-value-quantity", "_sort", "cannot sort"},
		{"Patient", "_total=maybe", "_total", "none, estimate, accurate"},
		{"Patient", "_summary=all", "_summary", "count"},
		{"Patient", "_elements=na-me", "_elements", "element name"},
		{"Observation", "_include=Observation", "_include", "Type:parameter"},
		{"Observation", "_include=Patient:organization", "_include", ":iterate"},
		{"Observation", "_include=Observation:code", "_include", "no reference parameter"},
		{"Observation", "_include=Observation:subject:Organization", "_include", "cannot refer"},
		{"Patient", "_revinclude=Organization:partof", "_revinclude", "cannot refer to the searched"},
		{"Patient", "_revinclude=Foo:bar", "_revinclude", "resource type"},
	}
	for _, tc := range tests {
		t.Run(tc.typ+"?"+tc.query, func(t *testing.T) {
			params, err := url.ParseQuery(tc.query)
			if err != nil {
				t.Fatal(err)
			}
			_, err = Parse(tc.typ, params, Options{})
			e, ok := err.(*Error)
			if !ok {
				t.Fatalf("Parse error = %v (%T), want *Error", err, err)
			}
			if e.Param != tc.param || !strings.Contains(e.Message, tc.message) {
				t.Errorf("error %q on %q, want one on %q containing %q", e.Message, e.Param, tc.param, tc.message)
			}
		})
	}
}

func TestSplitUnescaped(t *testing.T) {
	tests := []struct {
		in   string
		want []string
	}{
		{"a,b", []string{"a", "b"}},
		{`a\,b,c`, []string{`a\,b`, "c"}},
		{`a\\,b`, []string{`a\\`, "b"}},
		{"", []string{""}},
		{"a,", []string{"a", ""}},
	}
	for _, tc := range tests {
		if got := splitUnescaped(tc.in, ','); !reflect.DeepEqual(got, tc.want) {
			t.Errorf("splitUnescaped(%q) = %q, want %q", tc.in, got, tc.want)
		}
	}
	if got := unescape(`a\,b\$c\|d\\e`); got != `a,b$c|d\e` {
		t.Errorf("unescape = %q", got)
	}
}
