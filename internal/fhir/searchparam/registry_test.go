package searchparam_test

import (
	"slices"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
)

func TestLookup(t *testing.T) {
	tests := []struct {
		typ, code  string
		wantType   searchparam.Type
		wantExpr   string
		wantTarget []string
	}{
		{"Observation", "code", searchparam.Token, "Observation.code", nil},
		{"Observation", "patient", searchparam.Reference, "Observation.subject.where(resolve() is Patient)", []string{"Patient"}},
		{"Observation", "value-quantity", searchparam.Quantity, "(Observation.value as Quantity) | (Observation.value as SampledData)", nil},
		{"Observation", "date", searchparam.Date, "Observation.effective", nil},
		{"Patient", "phone", searchparam.Token, "Patient.telecom.where(system='phone')", nil},
		{"Patient", "birthdate", searchparam.Date, "Patient.birthDate", nil},
		{"Condition", "onset-date", searchparam.Date, "Condition.onset.as(dateTime) | Condition.onset.as(Period)", nil},
		{"InsurancePlan", "name", searchparam.String, "name | alias", nil},
		{"Bundle", "composition", searchparam.Reference, "Bundle.entry[0].resource", []string{"Composition"}},
		{"DocumentReference", "patient", searchparam.Reference, "DocumentReference.subject.where(resolve() is Patient)", []string{"Patient"}},
		{"Patient", "_id", searchparam.Token, "Resource.id", nil},
		{"Observation", "_lastUpdated", searchparam.Date, "Resource.meta.lastUpdated", nil},
		{"Binary", "_profile", searchparam.URI, "Resource.meta.profile", nil},
		{"Patient", "_text", searchparam.String, "", nil},
		{"Observation", "code-value-quantity", searchparam.Composite, "Observation", nil},
		{"Location", "near", searchparam.Special, "Location.position", nil},
	}
	for _, tt := range tests {
		t.Run(tt.typ+"."+tt.code, func(t *testing.T) {
			p, ok := searchparam.Lookup(tt.typ, tt.code)
			if !ok {
				t.Fatal("not found")
			}
			if p.Code != tt.code || p.Type != tt.wantType || p.Expression != tt.wantExpr {
				t.Errorf("got %s %s %q, want %s %s %q", p.Code, p.Type, p.Expression, tt.code, tt.wantType, tt.wantExpr)
			}
			if tt.wantTarget != nil && !slices.Equal(p.Targets, tt.wantTarget) {
				t.Errorf("targets %v, want %v", p.Targets, tt.wantTarget)
			}
			if !strings.HasPrefix(p.URL, "http://hl7.org/fhir/SearchParameter/") {
				t.Errorf("url %q", p.URL)
			}
		})
	}
}

func TestLookupMissing(t *testing.T) {
	for _, tt := range []struct{ typ, code string }{
		{"Observation", "nope"},
		{"Nope", "_id"},
		{"Bundle", "_text"}, // a DomainResource parameter; Bundle is a Resource
		{"Patient", "code"},
	} {
		if p, ok := searchparam.Lookup(tt.typ, tt.code); ok {
			t.Errorf("Lookup(%s, %s) = %+v, want none", tt.typ, tt.code, p)
		}
	}
}

func TestComposite(t *testing.T) {
	p, _ := searchparam.Lookup("Observation", "code-value-quantity")
	want := []searchparam.Component{{Code: "code", Expression: "code"}, {Code: "value-quantity", Expression: "value.as(Quantity)"}}
	if !slices.Equal(p.Components, want) {
		t.Errorf("components %+v, want %+v", p.Components, want)
	}
}

func TestForType(t *testing.T) {
	types := searchparam.ResourceTypes()
	if len(types) != 146 || !slices.IsSorted(types) {
		t.Fatalf("%d resource types (sorted: %v), want the 146 of R4", len(types), slices.IsSorted(types))
	}
	for _, rt := range []string{"Patient", "Binary", "Parameters", "Bundle"} {
		if !searchparam.IsResourceType(rt) {
			t.Errorf("IsResourceType(%s) = false", rt)
		}
	}
	if searchparam.IsResourceType("HumanName") || searchparam.ForType("HumanName") != nil {
		t.Error("HumanName is a data type, not a resource type")
	}

	common := []string{"_id", "_lastUpdated", "_profile", "_security", "_source", "_tag"}
	for _, rt := range types {
		ps := searchparam.ForType(rt)
		codes := make([]string, len(ps))
		for i, p := range ps {
			codes[i] = p.Code
			// Narrowing keeps only the branches of this type.
			for _, b := range strings.Split(p.Expression, " | ") {
				root := strings.TrimLeft(b, "(")
				if b != "" && root != rt && !strings.HasPrefix(root, rt+".") && !strings.HasPrefix(root, "Resource.") &&
					(root[0] < 'a' || root[0] > 'z') {
					t.Errorf("%s %s: branch %q of another type", rt, p.Code, b)
				}
			}
			if q, ok := searchparam.Lookup(rt, p.Code); !ok || q != p {
				t.Errorf("%s %s: Lookup disagrees with ForType", rt, p.Code)
			}
		}
		if !slices.IsSorted(codes) {
			t.Errorf("%s: codes not sorted", rt)
		}
		for _, c := range common {
			if !slices.Contains(codes, c) {
				t.Errorf("%s: no %s", rt, c)
			}
		}
	}
}
