package storetest

import (
	"errors"
	"fmt"
	"net/url"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/store"
)

// searchTests cover Search: every parameter type with its modifiers and
// prefixes, chains, _has, compartments, sorting, paging, totals, includes
// and the access restriction.
var searchTests = []Test{
	{"Search/Matches", testSearchMatches},
	{"Search/Sort", testSearchSort},
	{"Search/Compartment", testSearchCompartment},
	{"Search/Total", testSearchTotal},
	{"Search/Include", testSearchInclude},
	{"Search/Restrict", testSearchRestrict},
	{"Search/Invalid", testSearchInvalid},
	{"Search/PagingWhileWriting", testPagingWhileWriting},
}

// parse parses a search as the REST layer does, failing the test on any
// parameter the parser refuses or ignores.
func parse(t testing.TB, typ, query string) *search.Query {
	t.Helper()
	values, err := url.ParseQuery(query)
	if err != nil {
		t.Fatalf("%s?%s: %v", typ, query, err)
	}
	req, err := search.Parse(typ, values, search.Options{})
	if err != nil {
		t.Fatalf("%s?%s: %v", typ, query, err)
	}
	if len(req.Ignored) > 0 {
		t.Fatalf("%s?%s: the parser ignored %v", typ, query, req.Ignored)
	}
	return &req.Query
}

const confidentialityR = `"meta":{"security":[{"system":"http://terminology.hl7.org/CodeSystem/v3-Confidentiality","code":"R"}]}`

// searchFixture is the data of the search tests. Practitioner/pr1 and
// Observation/o3 are restricted (confidentiality R); Patient/p4 is deleted
// once stored.
var searchFixture = []string{
	`{"resourceType":"Patient","id":"p1","identifier":[{"system":"urn:oid:1.2.250.1.213.1.4.8","value":"180051234567890"}],
	  "active":true,"name":[{"family":"Dupré","given":["Élodie"]}],"gender":"female","birthDate":"1980-05-12",
	  "address":[{"city":"Saint-Étienne"}]}`,
	`{"resourceType":"Patient","id":"p2","identifier":[{"value":"42"}],"active":false,
	  "name":[{"family":"Martin","given":["Jean"]}],"gender":"male","birthDate":"1975"}`,
	`{"resourceType":"Patient","id":"p3","name":[{"family":"Dupont","given":["Marie"]}],"gender":"female","birthDate":"1990-01-01"}`,
	`{"resourceType":"Patient","id":"p4","name":[{"family":"Dupuis"}],"gender":"female","birthDate":"1985"}`,
	`{"resourceType":"Practitioner","id":"pr1",` + confidentialityR + `,"name":[{"family":"House"}]}`,
	`{"resourceType":"Organization","id":"org1","name":"Hôpital Nord"}`,
	`{"resourceType":"Observation","id":"o1","meta":{"profile":["http://example.org/StructureDefinition/height"]},"status":"final",
	  "code":{"coding":[{"system":"http://loinc.org","code":"8302-2","display":"Body height"}],"text":"Taille"},
	  "subject":{"reference":"Patient/p1"},"performer":[{"reference":"Practitioner/pr1"}],
	  "effectiveDateTime":"2020-03-15T10:00:00Z",
	  "valueQuantity":{"value":176.5,"unit":"cm","system":"http://unitsofmeasure.org","code":"cm"}}`,
	`{"resourceType":"Observation","id":"o2","status":"final",
	  "code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}]},
	  "subject":{"reference":"Patient/p1"},"hasMember":[{"reference":"Observation/o1"}],
	  "effectivePeriod":{"start":"2020-03-01","end":"2020-03-31"},
	  "valueQuantity":{"value":70,"unit":"kg","system":"http://unitsofmeasure.org","code":"kg"}}`,
	`{"resourceType":"Observation","id":"o3",` + confidentialityR + `,"status":"preliminary",
	  "code":{"coding":[{"system":"http://loinc.org","code":"8302-2"}]},
	  "subject":{"reference":"Patient/p2"},"effectiveDateTime":"2021",
	  "valueQuantity":{"value":182,"unit":"cm","system":"http://unitsofmeasure.org","code":"cm"}}`,
	`{"resourceType":"Observation","id":"o4","status":"amended",
	  "code":{"coding":[{"system":"http://loinc.org","code":"29463-7","display":"Body weight"}]},
	  "subject":{"reference":"Patient/p2"},"focus":[{"reference":"urn:uuid:0d5e3c4a-1111-2222-3333-444455556666"}],
	  "effectiveDateTime":"2019-12-31T23:00:00+01:00","valueQuantity":{"value":85,"unit":"kg"}}`,
	`{"resourceType":"Observation","id":"o5","status":"final",
	  "subject":{"identifier":{"system":"urn:oid:1.2.3","value":"X"}},
	  "performer":[{"reference":"http://other.example/fhir/Practitioner/ext1"}],"valueString":"positive"}`,
	`{"resourceType":"Encounter","id":"e1","status":"in-progress","subject":{"reference":"Patient/p1"},"period":{"start":"2020-01-01"}}`,
	`{"resourceType":"Encounter","id":"e2","status":"finished","subject":{"reference":"Patient/p2"},"period":{"start":"2019-06-01","end":"2019-06-30"}}`,
	`{"resourceType":"RiskAssessment","id":"ra1","status":"final","subject":{"reference":"Patient/p3"},"prediction":[{"probabilityDecimal":0.25}]}`,
	`{"resourceType":"RiskAssessment","id":"ra2","status":"final","subject":{"reference":"Patient/p3"},"prediction":[{"probabilityDecimal":100}]}`,
	`{"resourceType":"RiskAssessment","id":"ra3","status":"final","subject":{"reference":"Patient/p3"},"prediction":[{"probabilityDecimal":99.6}]}`,
	`{"resourceType":"ValueSet","id":"vs1","url":"http://example.org/vs1","status":"active"}`,
}

// searchStore returns a store holding searchFixture: every resource
// written at baseTime, but Patient/p3 a month later; Patient/p4 deleted.
func searchStore(t *testing.T, h Harness) store.Store {
	s := h.openMigrated(t)
	ws := make([]store.Write, len(searchFixture))
	for i, src := range searchFixture {
		ws[i] = newWrite(t, src, 1, baseTime)
		if ws[i].Type == "Patient" && ws[i].ID == "p3" {
			ws[i].LastUpdated = baseTime.AddDate(0, 1, 0)
		}
	}
	write(t, s, ws...)
	write(t, s, deletion(read(t, s, "Patient", "p4"), baseTime.Add(time.Hour)))
	return s
}

// searchCase is a search and the resources it must find, as "Type/id".
type searchCase struct {
	typ, query string
	want       []string
}

func list(s string) []string {
	if s == "" {
		return []string{}
	}
	return strings.Fields(s)
}

func testSearchMatches(t *testing.T, h Harness) {
	s := searchStore(t, h)
	const (
		obsLOINC = "Observation/o1 Observation/o2 Observation/o3 Observation/o4"
	)
	for _, tc := range []searchCase{
		// Every resource of a type; never a deleted one.
		{"Patient", "", list("Patient/p1 Patient/p2 Patient/p3")},
		{"Organization", "", list("Organization/org1")},

		// string: starts with, case and accents ignored; :exact; :contains.
		{"Patient", "name=dup", list("Patient/p1 Patient/p3")},
		{"Patient", "name=dupr", list("Patient/p1")},
		{"Patient", "name=ÉLODIE", list("Patient/p1")},
		{"Patient", "family:exact=Dupré", list("Patient/p1")},
		{"Patient", "family:exact=dupré", list("")},
		{"Patient", "family:exact=Dupr", list("")},
		{"Patient", "name:contains=pon", list("Patient/p3")},
		{"Patient", "name:contains=LOD", list("Patient/p1")},
		{"Patient", "name:contains=_", list("")},
		{"Patient", "name:contains=%25", list("")},
		{"Patient", "family=Dupré,Martin", list("Patient/p1 Patient/p2")},
		{"Patient", "address-city=saint", list("Patient/p1")},
		{"Patient", "name=dup&gender=female", list("Patient/p1 Patient/p3")},
		{"Patient", "name=dup&name=marie", list("Patient/p3")},
		{"Patient", "name:missing=true", list("")},
		{"Organization", "name=hopital", list("Organization/org1")},

		// token: code, system|code, |code, system|, :text, :not, :missing.
		{"Observation", "code=8302-2", list("Observation/o1 Observation/o3")},
		{"Observation", "code=http://loinc.org|8302-2", list("Observation/o1 Observation/o3")},
		{"Observation", "code=http://snomed.info/sct|8302-2", list("")},
		{"Observation", "code=http://loinc.org|", list(obsLOINC)},
		{"Observation", "code=8302-2,29463-7", list(obsLOINC)},
		{"Patient", "identifier=|42", list("Patient/p2")},
		{"Patient", "identifier=42", list("Patient/p2")},
		{"Patient", "identifier=|180051234567890", list("")},
		{"Patient", "identifier=urn:oid:1.2.250.1.213.1.4.8|180051234567890", list("Patient/p1")},
		{"Observation", "code:text=taille", list("Observation/o1")},
		{"Observation", "code:text=BODY", list("Observation/o1 Observation/o2 Observation/o4")},
		{"Observation", "code:not=8302-2", list("Observation/o2 Observation/o4 Observation/o5")},
		{"Observation", "code:not=8302-2,29463-7", list("Observation/o5")},
		{"Observation", "code:missing=true", list("Observation/o5")},
		{"Observation", "code:missing=false", list(obsLOINC)},
		{"Patient", "gender=male,female", list("Patient/p1 Patient/p2 Patient/p3")},
		{"Patient", "active=true", list("Patient/p1")},
		{"Patient", "active=false", list("Patient/p2")},
		{"Patient", "active:missing=true", list("Patient/p3")},

		// date: a day, a year, an instant; each prefix.
		{"Patient", "birthdate=1980-05-12", list("Patient/p1")},
		{"Patient", "birthdate=1980", list("Patient/p1")},
		{"Patient", "birthdate=1980-05-12T10:00", list("")},
		{"Patient", "birthdate=lt1980", list("Patient/p2")},
		{"Patient", "birthdate=le1980", list("Patient/p1 Patient/p2")},
		{"Patient", "birthdate=gt1980", list("Patient/p3")},
		{"Patient", "birthdate=ge1980", list("Patient/p1 Patient/p3")},
		{"Patient", "birthdate=ne1980", list("Patient/p2 Patient/p3")},
		{"Patient", "birthdate=sa1980", list("Patient/p3")},
		{"Patient", "birthdate=eb1980", list("Patient/p2")},
		{"Patient", "birthdate=ap1980-05", list("Patient/p1 Patient/p2")},
		{"Patient", "birthdate=ge1976&birthdate=le1985", list("Patient/p1")},
		{"Observation", "date=2020", list("Observation/o1 Observation/o2")},
		{"Observation", "date=2019", list("Observation/o4")},
		{"Observation", "date=2019-12-31", list("Observation/o4")},
		{"Observation", "date=2020-03-15", list("Observation/o1")},
		{"Observation", "date=2020-03-15T11:00:00%2B01:00", list("Observation/o1")},
		{"Observation", "date=ge2020-03-15", list("Observation/o1 Observation/o2 Observation/o3")},
		{"Observation", "date=lt2020-03-15", list("Observation/o2 Observation/o4")},
		{"Observation", "date=sa2020-03-15", list("Observation/o3")},
		{"Observation", "date=eb2020-03-15", list("Observation/o4")},
		{"Encounter", "date=ge2025", list("Encounter/e1")},
		{"Encounter", "date=2019-06", list("Encounter/e2")},
		{"Encounter", "date=2020", list("")},
		{"Encounter", "date=lt2019", list("")},
		{"Patient", "_lastUpdated=ge2024-02", list("Patient/p3")},
		{"Patient", "_lastUpdated=lt2024-02", list("Patient/p1 Patient/p2")},
		{"Patient", "_lastUpdated=2024-01-01", list("Patient/p1 Patient/p2")},
		{"Patient", "_lastUpdated=2024-01-01T00:00:00Z", list("Patient/p1 Patient/p2")},

		// number: eq within the value's precision; the other prefixes exact.
		{"RiskAssessment", "probability=100", list("RiskAssessment/ra2 RiskAssessment/ra3")},
		{"RiskAssessment", "probability=100.0", list("RiskAssessment/ra2")},
		{"RiskAssessment", "probability=1e2", list("RiskAssessment/ra2 RiskAssessment/ra3")},
		{"RiskAssessment", "probability=0.25", list("RiskAssessment/ra1")},
		{"RiskAssessment", "probability=lt100", list("RiskAssessment/ra1 RiskAssessment/ra3")},
		{"RiskAssessment", "probability=le100", list("RiskAssessment/ra1 RiskAssessment/ra2 RiskAssessment/ra3")},
		{"RiskAssessment", "probability=gt0.25", list("RiskAssessment/ra2 RiskAssessment/ra3")},
		{"RiskAssessment", "probability=ge0.25", list("RiskAssessment/ra1 RiskAssessment/ra2 RiskAssessment/ra3")},
		{"RiskAssessment", "probability=ne100", list("RiskAssessment/ra1")},
		{"RiskAssessment", "probability=ap100", list("RiskAssessment/ra2 RiskAssessment/ra3")},
		{"RiskAssessment", "probability=ap0.25", list("RiskAssessment/ra1")},
		{"RiskAssessment", "probability=sa99.6", list("RiskAssessment/ra2")},
		{"RiskAssessment", "probability=eb0.3", list("RiskAssessment/ra1")},

		// quantity: value, value|system|code, value||code (code or unit).
		{"Observation", "value-quantity=176.5", list("Observation/o1")},
		{"Observation", "value-quantity=176", list("")},
		{"Observation", "value-quantity=gt100", list("Observation/o1 Observation/o3")},
		{"Observation", "value-quantity=176.5|http://unitsofmeasure.org|cm", list("Observation/o1")},
		{"Observation", "value-quantity=176.5|http://unitsofmeasure.org|kg", list("")},
		{"Observation", "value-quantity=85||kg", list("Observation/o4")},
		{"Observation", "value-quantity=70||kg", list("Observation/o2")},
		{"Observation", "value-quantity=lt100|http://unitsofmeasure.org|kg", list("Observation/o2")},
		{"Observation", "value-quantity=ap180", list("Observation/o1 Observation/o3")},

		// reference: Type/id, id, :Type, :identifier, absolute URL, urn.
		{"Observation", "subject=Patient/p1", list("Observation/o1 Observation/o2")},
		{"Observation", "subject=p1", list("Observation/o1 Observation/o2")},
		{"Observation", "subject:Patient=p1", list("Observation/o1 Observation/o2")},
		{"Observation", "subject:Group=p1", list("")},
		{"Observation", "patient=p2", list("Observation/o3 Observation/o4")},
		{"Observation", "subject=Patient/p1,Patient/p2", list(obsLOINC)},
		{"Observation", "performer=Practitioner/pr1", list("Observation/o1")},
		{"Observation", "subject:identifier=urn:oid:1.2.3|X", list("Observation/o5")},
		{"Observation", "subject:identifier=X", list("Observation/o5")},
		{"Observation", "performer=http://other.example/fhir/Practitioner/ext1", list("Observation/o5")},
		{"Observation", "performer=http://elsewhere.example/fhir/Practitioner/ext1", list("")},
		{"Observation", "focus=urn:uuid:0d5e3c4a-1111-2222-3333-444455556666", list("Observation/o4")},
		{"Observation", "performer:missing=true", list("Observation/o2 Observation/o3 Observation/o4")},
		{"Encounter", "subject=p1", list("Encounter/e1")},

		// uri.
		{"Observation", "_profile=http://example.org/StructureDefinition/height", list("Observation/o1")},
		{"ValueSet", "url=http://example.org/vs1", list("ValueSet/vs1")},
		{"ValueSet", "url=http://example.org/vs", list("")},

		// _id.
		{"Patient", "_id=p1,p3", list("Patient/p1 Patient/p3")},
		{"Patient", "_id=p4", list("")},
		{"Patient", "_id:not=p1", list("Patient/p2 Patient/p3")},

		// Chains, one level.
		{"Observation", "subject:Patient.name=dupre", list("Observation/o1 Observation/o2")},
		{"Observation", "subject:Patient.birthdate=lt1980", list("Observation/o3 Observation/o4")},
		{"Observation", "patient.gender=male", list("Observation/o3 Observation/o4")},
		{"Observation", "performer:Practitioner.name=house", list("Observation/o1")},
		{"Observation", "subject:Patient._id=p2", list("Observation/o3 Observation/o4")},
		{"Observation", "subject:Patient.name=nobody", list("")},
		{"Encounter", "subject:Patient.name=martin&status=finished", list("Encounter/e2")},

		// _has.
		{"Patient", "_has:Observation:patient:code=29463-7", list("Patient/p1 Patient/p2")},
		{"Patient", "_has:Observation:subject:status=preliminary", list("Patient/p2")},
		{"Patient", "_has:Encounter:subject:status=in-progress", list("Patient/p1")},
		{"Patient", "_has:Observation:patient:code=nothing", list("")},
		{"Patient", "_has:Observation:patient:code=8302-2&gender=female", list("Patient/p1")},
		{"Practitioner", "_has:Observation:performer:status=final", list("Practitioner/pr1")},
		{"Patient", "_has:Observation:patient:_id=o3", list("Patient/p2")},
		{"Patient", "_has:Observation:patient:_lastUpdated=2024-01-01", list("Patient/p1 Patient/p2")},
		{"Patient", "_has:Observation:patient:_lastUpdated=lt2023", list("")},
	} {
		t.Run(tc.typ+"?"+tc.query, func(t *testing.T) {
			q := parse(t, tc.typ, tc.query)
			q.Count = 100
			p := mustSearch(t, s, q)
			if got := ids(p.Resources); !slices.Equal(got, tc.want) {
				t.Errorf("found %v; want %v", got, tc.want)
			}
			if p.Next != nil {
				t.Errorf("Next = %+v on the only page", p.Next)
			}
		})
	}
}

// testSearchSort checks the order of sorted searches, and that paging
// through them one resource at a time gives the same order.
func testSearchSort(t *testing.T, h Harness) {
	s := searchStore(t, h)
	for _, tc := range []searchCase{
		{"Patient", "_sort=birthdate", list("Patient/p2 Patient/p1 Patient/p3")},
		{"Patient", "_sort=-birthdate", list("Patient/p3 Patient/p1 Patient/p2")},
		{"Patient", "_sort=family", list("Patient/p3 Patient/p1 Patient/p2")},
		{"Patient", "_sort=gender,-birthdate", list("Patient/p3 Patient/p1 Patient/p2")},
		{"Patient", "_sort=-gender,family", list("Patient/p2 Patient/p3 Patient/p1")},
		// Without a value (p3 has no identifier): last, either way.
		{"Patient", "_sort=identifier", list("Patient/p1 Patient/p2 Patient/p3")},
		{"Patient", "_sort=-identifier", list("Patient/p2 Patient/p1 Patient/p3")},
		{"Patient", "_sort=_lastUpdated", list("Patient/p1 Patient/p2 Patient/p3")},
		{"Patient", "_sort=-_lastUpdated", list("Patient/p3 Patient/p1 Patient/p2")},
		{"Patient", "_sort=-_id", list("Patient/p3 Patient/p2 Patient/p1")},
		{"Patient", "", list("Patient/p1 Patient/p2 Patient/p3")},
		// Dates sort by their start going up, by their end going down.
		{"Observation", "_sort=date", list("Observation/o4 Observation/o2 Observation/o1 Observation/o3 Observation/o5")},
		{"Observation", "_sort=-date", list("Observation/o3 Observation/o2 Observation/o1 Observation/o4 Observation/o5")},
		{"Observation", "_sort=value-quantity", list("Observation/o2 Observation/o4 Observation/o1 Observation/o3 Observation/o5")},
		{"Observation", "_sort=-value-quantity", list("Observation/o3 Observation/o1 Observation/o4 Observation/o2 Observation/o5")},
		{"Observation", "_sort=status,-date", list("Observation/o4 Observation/o2 Observation/o1 Observation/o5 Observation/o3")},
		{"Observation", "_sort=subject,_id", list("Observation/o1 Observation/o2 Observation/o3 Observation/o4 Observation/o5")},
		{"RiskAssessment", "_sort=-probability", list("RiskAssessment/ra2 RiskAssessment/ra3 RiskAssessment/ra1")},
		{"ValueSet", "_sort=url", list("ValueSet/vs1")},
	} {
		t.Run(tc.typ+"?"+tc.query, func(t *testing.T) {
			q := parse(t, tc.typ, tc.query)
			p := mustSearch(t, s, q)
			if got := order(p.Resources); !slices.Equal(got, tc.want) {
				t.Errorf("order %v; want %v", got, tc.want)
			}
			q.Count = 1
			var paged []string
			for page := 0; ; page++ {
				p := mustSearch(t, s, q)
				paged = append(paged, order(p.Resources)...)
				if p.Next == nil || page > len(tc.want) {
					break
				}
				q.After = p.Next
			}
			if !slices.Equal(paged, tc.want) {
				t.Errorf("one per page: %v; want %v", paged, tc.want)
			}
		})
	}
}

// order returns "Type/id" of resources, in their order.
func order(rs []store.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Type + "/" + r.ID
	}
	return out
}

func testSearchCompartment(t *testing.T, h Harness) {
	s := searchStore(t, h)
	for _, tc := range []struct {
		typ, patient, query string
		want                []string
	}{
		{"Observation", "p1", "", list("Observation/o1 Observation/o2")},
		{"Observation", "p1", "code=29463-7", list("Observation/o2")},
		{"Observation", "p2", "patient=p2", list("Observation/o3 Observation/o4")},
		{"Observation", "nobody", "", list("")},
		// Every type: Patient/{id}/$everything.
		{"", "p1", "", list("Encounter/e1 Observation/o1 Observation/o2 Patient/p1")},
		{"", "p3", "", list("Patient/p3 RiskAssessment/ra1 RiskAssessment/ra2 RiskAssessment/ra3")},
		{"", "p4", "", list("")}, // deleted
	} {
		q := &search.Query{Type: tc.typ, Compartment: tc.patient}
		if tc.query != "" {
			q = parse(t, tc.typ, tc.query)
			q.Compartment = tc.patient
		}
		p := mustSearch(t, s, q)
		if got := ids(p.Resources); !slices.Equal(got, tc.want) {
			t.Errorf("%s in the compartment of %s (%s): %v; want %v", tc.typ, tc.patient, tc.query, got, tc.want)
		}
	}
	// $everything pages through every type in (type, id) order.
	q := &search.Query{Compartment: "p1", Count: 3}
	p := mustSearch(t, s, q)
	if got := order(p.Resources); !slices.Equal(got, list("Encounter/e1 Observation/o1 Observation/o2")) || p.Next == nil {
		t.Fatalf("first page of $everything: %v, next %v", got, p.Next)
	}
	q.After = p.Next
	if p := mustSearch(t, s, q); !slices.Equal(order(p.Resources), list("Patient/p1")) || p.Next != nil {
		t.Errorf("second page of $everything: %v, next %v", order(p.Resources), p.Next)
	}
}

func testSearchTotal(t *testing.T, h Harness) {
	s := searchStore(t, h)
	for _, tc := range []struct {
		typ, query string
		total      int
		resources  int
		next       bool
	}{
		{"Patient", "gender=female&_total=accurate&_count=1", 2, 1, true},
		{"Patient", "gender=female&_total=accurate&_count=2", 2, 2, false},
		{"Patient", "gender=female&_summary=count", 2, 0, false},
		{"Patient", "gender=female&_count=0", 2, 0, false},
		{"Patient", "gender=female", -1, 2, false},
		{"Observation", "code=8302-2,29463-7&_total=accurate&_count=3", 4, 3, true},
		{"Patient", "_id=p1&_revinclude=Observation:subject&_total=accurate", 1, 1, false},
		{"Patient", "name=nobody&_total=accurate", 0, 0, false},
	} {
		p := mustSearch(t, s, parse(t, tc.typ, tc.query))
		if p.Total != tc.total || len(p.Resources) != tc.resources || (p.Next != nil) != tc.next {
			t.Errorf("%s?%s: total %d, %d resources, next %v; want %d, %d, %v",
				tc.typ, tc.query, p.Total, len(p.Resources), p.Next != nil, tc.total, tc.resources, tc.next)
		}
	}
	// The total does not change from page to page.
	q := parse(t, "Observation", "code=8302-2,29463-7&_total=accurate&_count=3")
	q.After = mustSearch(t, s, q).Next
	if p := mustSearch(t, s, q); p.Total != 4 || len(p.Resources) != 1 {
		t.Errorf("second page: total %d, %d resources; want 4, 1", p.Total, len(p.Resources))
	}
}

func testSearchInclude(t *testing.T, h Harness) {
	s := searchStore(t, h)
	for _, tc := range []struct {
		typ, query      string
		matches, extras []string
	}{
		{"Observation", "_id=o1&_include=Observation:subject&_include=Observation:performer",
			list("Observation/o1"), list("Patient/p1 Practitioner/pr1")},
		{"Observation", "_id=o1&_include=Observation:*", list("Observation/o1"), list("Patient/p1 Practitioner/pr1")},
		{"Observation", "_id=o1&_include=Observation:performer:Organization", list("Observation/o1"), list("")},
		{"Observation", "subject=Patient/p1&_include=Observation:patient",
			list("Observation/o1 Observation/o2"), list("Patient/p1")},
		{"Observation", "_id=o5&_include=Observation:*", list("Observation/o5"), list("")},
		{"Patient", "_id=p1&_revinclude=Observation:subject", list("Patient/p1"), list("Observation/o1 Observation/o2")},
		{"Patient", "_id=p1,p2&_revinclude=Observation:patient&_revinclude=Encounter:subject",
			list("Patient/p1 Patient/p2"), list("Encounter/e1 Encounter/e2 Observation/o1 Observation/o2 Observation/o3 Observation/o4")},
		{"Practitioner", "_revinclude=Observation:performer&_include=Practitioner:*", list("Practitioner/pr1"), list("Observation/o1")},
		{"Patient", "_id=p3&_revinclude=*", list("Patient/p3"), list("")},
		{"Patient", "_id=p3&_revinclude=RiskAssessment:*", list("Patient/p3"), list("RiskAssessment/ra1 RiskAssessment/ra2 RiskAssessment/ra3")},
		{"Observation", "_id=o1&_revinclude=Observation:has-member", list("Observation/o1"), list("Observation/o2")},
		// Both directions at once; what is already on the page is not
		// included again.
		{"Observation", "subject=p1&_include=Observation:subject&_include=Observation:has-member&_revinclude=Observation:has-member",
			list("Observation/o1 Observation/o2"), list("Patient/p1")},
	} {
		p := mustSearch(t, s, parse(t, tc.typ, tc.query))
		if got := ids(p.Resources); !slices.Equal(got, tc.matches) {
			t.Errorf("%s?%s: matches %v; want %v", tc.typ, tc.query, got, tc.matches)
		}
		if got := ids(p.Included); !slices.Equal(got, tc.extras) {
			t.Errorf("%s?%s: included %v; want %v", tc.typ, tc.query, got, tc.extras)
		}
	}
}

// testSearchRestrict checks that a Restriction holds everywhere: matches,
// total, chains, _has and includes.
func testSearchRestrict(t *testing.T, h Harness) {
	s := searchStore(t, h)
	hideR := &search.Restriction{Where: parse(t, "Observation",
		"_security:not=http://terminology.hl7.org/CodeSystem/v3-Confidentiality|R").Where}
	for _, tc := range []struct {
		name            string
		typ, query      string
		restrict        *search.Restriction
		matches, extras []string
		total           int
	}{
		{"patients", "Observation", "code=http://loinc.org|&_total=accurate",
			&search.Restriction{Patients: []string{"p1"}}, list("Observation/o1 Observation/o2"), list(""), 2},
		{"no patient", "Observation", "_total=accurate",
			&search.Restriction{Patients: []string{}}, list(""), list(""), 0},
		{"patients, include outside compartments refused", "Observation", "_id=o1&_include=Observation:*",
			&search.Restriction{Patients: []string{"p1"}}, list("Observation/o1"), list("Patient/p1"), -1},
		{"patients, include outside compartments admitted", "Observation", "_id=o1&_include=Observation:*",
			&search.Restriction{Patients: []string{"p1", ""}}, list("Observation/o1"), list("Patient/p1 Practitioner/pr1"), -1},
		{"clause, total", "Observation", "_total=accurate", hideR,
			list("Observation/o1 Observation/o2 Observation/o4 Observation/o5"), list(""), 4},
		{"clause, other type", "Practitioner", "", hideR, list(""), list(""), -1},
		{"clause, chain target", "Observation", "performer:Practitioner.name=house", hideR, list(""), list(""), -1},
		{"clause, _has source", "Patient", "_has:Observation:patient:code=8302-2", hideR, list("Patient/p1"), list(""), -1},
		{"clause, include", "Observation", "_id=o1&_include=Observation:performer", hideR, list("Observation/o1"), list(""), -1},
		{"clause, revinclude", "Patient", "_id=p2&_revinclude=Observation:subject", hideR,
			list("Patient/p2"), list("Observation/o4"), -1},
		{"both", "Observation", "_total=accurate",
			&search.Restriction{Patients: []string{"p2", ""}, Where: hideR.Where}, list("Observation/o4 Observation/o5"), list(""), 2},
	} {
		q := parse(t, tc.typ, tc.query)
		q.Restrict = tc.restrict
		p := mustSearch(t, s, q)
		if got := ids(p.Resources); !slices.Equal(got, tc.matches) {
			t.Errorf("%s: matches %v; want %v", tc.name, got, tc.matches)
		}
		if got := ids(p.Included); !slices.Equal(got, tc.extras) {
			t.Errorf("%s: included %v; want %v", tc.name, got, tc.extras)
		}
		if p.Total != tc.total {
			t.Errorf("%s: total %d; want %d", tc.name, p.Total, tc.total)
		}
	}
	// $everything of a patient outside the restriction.
	q := &search.Query{Compartment: "p2", Restrict: &search.Restriction{Patients: []string{"p1"}}}
	if p := mustSearch(t, s, q); len(p.Resources) != 0 {
		t.Errorf("$everything of p2 restricted to p1: %v", ids(p.Resources))
	}
}

// testSearchInvalid checks that queries the store cannot run fail with
// ErrInvalidQuery, before running anything.
func testSearchInvalid(t *testing.T, h Harness) {
	s := searchStore(t, h)
	clause := func(param string, typ search.ParamType, modifier string, values ...search.Value) []search.Clause {
		return []search.Clause{{Param: param, Type: typ, Modifier: modifier, Values: values}}
	}
	sorted := parse(t, "Patient", "_sort=birthdate")
	for _, tc := range []struct {
		name string
		q    search.Query
	}{
		{"modifier of another type", search.Query{Type: "Patient", Where: clause("name", search.String, "text", search.Value{Text: "x"})}},
		{"unknown modifier", search.Query{Type: "Patient", Where: clause("gender", search.Token, "below", search.Value{Code: "x"})}},
		{"not a number", search.Query{Type: "RiskAssessment", Where: clause("probability", search.Number, "", search.Value{Number: "abc"})}},
		{"unknown prefix", search.Query{Type: "RiskAssessment", Where: clause("probability", search.Number, "", search.Value{Prefix: "xx", Number: "1"})}},
		{"date without range", search.Query{Type: "Patient", Where: clause("birthdate", search.Date, "", search.Value{Prefix: search.Eq})}},
		{"empty token", search.Query{Type: "Patient", Where: clause("gender", search.Token, "", search.Value{})}},
		{"no value", search.Query{Type: "Patient", Where: clause("gender", search.Token, "")}},
		{"empty reference", search.Query{Type: "Observation", Where: clause("subject", search.Reference, "", search.Value{})}},
		{"composite", search.Query{Type: "Observation", Where: clause("code-value-quantity", "composite", "", search.Value{Text: "x"})}},
		{"sort by composite", search.Query{Type: "Observation", Sort: []search.SortKey{{Param: "code-value-quantity", Type: "composite"}}}},
		{"cursor of another sort", search.Query{Type: "Patient", After: &search.Cursor{SortValues: []string{"a", "b"}, Type: "Patient", ID: "p1"}}},
		{"cursor holding text for a date", search.Query{Type: "Patient", Sort: sorted.Sort, After: &search.Cursor{SortValues: []string{"soon"}, Type: "Patient", ID: "p1"}}},
		{"cursor without id", search.Query{Type: "Patient", After: &search.Cursor{}}},
	} {
		p, err := s.Search(t.Context(), &tc.q)
		if !errors.Is(err, store.ErrInvalidQuery) {
			t.Errorf("%s: %v, %v; want ErrInvalidQuery", tc.name, p, err)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
}

// testPagingWhileWriting pages through searches while another goroutine
// creates, updates and deletes resources: every resource left unchanged
// throughout must come exactly once, and none created meanwhile twice. (An
// updated resource may move past the cursor and come again: keyset paging
// promises nothing for those.)
func testPagingWhileWriting(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	families := []string{"Alpha", "Beta", "Gamma"}
	patient := func(id, family, birth string) string {
		return fmt.Sprintf(`{"resourceType":"Patient","id":"%s","name":[{"family":"%s"}],"birthDate":"%s"}`, id, family, birth)
	}
	const n = 60
	var ws []store.Write
	for i := range n {
		ws = append(ws, newWrite(t, patient(fmt.Sprintf("pg-%03d", i), families[i%3], fmt.Sprintf("19%02d", i%7+50)), 1, baseTime))
	}
	write(t, s, ws...)

	// The writer touches only pg-000 … pg-009 and new resources. It takes
	// one step each time a page has been read, while the next one is read.
	pageRead := make(chan struct{}, 1)
	var wg sync.WaitGroup
	var writeErr error
	wg.Go(func() {
		for i := 0; ; i++ {
			if _, ok := <-pageRead; !ok {
				return
			}
			w := newWrite(t, patient(fmt.Sprintf("new-%04d", i), families[i%3], "1955"), 1, baseTime)
			if err := writeAll(ctx, s, w); err != nil {
				writeErr = err
				return
			}
			id := fmt.Sprintf("pg-%03d", i%10)
			cur, err := s.Read(ctx, "Patient", id)
			if err != nil {
				writeErr = err
				return
			}
			at := baseTime.Add(time.Duration(i) * time.Second)
			next := newWrite(t, patient(id, families[(i+1)%3], "1999"), cur.Version+1, at)
			if !cur.Deleted && i%4 == 0 {
				next = deletion(cur, at)
			}
			if err := writeAll(ctx, s, next); err != nil {
				writeErr = err
				return
			}
		}
	})
	defer func() {
		close(pageRead)
		wg.Wait()
		if writeErr != nil {
			t.Errorf("writer: %v", writeErr)
		}
	}()

	for _, query := range []string{"_count=7", "_sort=family&_count=7", "_sort=-birthdate,family&_count=5", "name=alpha&_sort=-_lastUpdated&_count=4"} {
		q := parse(t, "Patient", query)
		seen := map[string]int{}
		for pages := 0; ; pages++ {
			p := mustSearch(t, s, q)
			for _, r := range p.Resources {
				seen[r.ID]++
			}
			select {
			case pageRead <- struct{}{}:
			default: // the writer is still busy with the previous step
			}
			if p.Next == nil {
				break
			}
			if pages > 10*n {
				t.Fatalf("%s: more than %d pages", query, pages)
			}
			q.After = p.Next
		}
		for id, times := range seen {
			if times > 1 && strings.HasPrefix(id, "new-") {
				t.Errorf("%s: %s came %d times", query, id, times)
			}
		}
		for i := 10; i < n; i++ {
			id := fmt.Sprintf("pg-%03d", i)
			if seen[id] != 1 && (!strings.HasPrefix(query, "name=alpha") || i%3 == 0) {
				t.Errorf("%s: %s came %d times; want once", query, id, seen[id])
			}
		}
	}
}
