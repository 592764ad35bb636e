package searchparam

import "testing"

// TestCompileNative lists which forms the native compiler takes and which
// it leaves to the FHIRPath library.
func TestCompileNative(t *testing.T) {
	for _, tt := range []struct {
		typ, expr string
		native    bool
	}{
		{"Observation", "Observation.code", true},
		{"Observation", "Resource.meta.tag", true},
		{"InsurancePlan", "name | alias", true},
		{"Observation", "Observation.subject.where(resolve() is Patient)", true},
		{"Patient", "Patient.telecom.where(system='phone')", true},
		{"Patient", "Patient.telecom.where($this.system = 'phone')", true},
		{"Observation", "Observation.value as Quantity", true},
		{"Condition", "Condition.onset.as(Age) | Condition.onset.ofType(Range)", true},
		{"Observation", "(Observation.value as CodeableConcept).text", true},
		{"Bundle", "Bundle.entry[0].resource", true},
		{"Patient", "Patient.deceased.exists() and Patient.deceased != false", false},
		{"Patient", "Patient.name as HumanName", false}, // not a choice element
		{"Patient", "Patient.extension('http://example.org/x').value", false},
		{"Patient", "Patient.name.first()", false},
		{"Patient", "(Patient.name | Patient.alias)[0]", false},
		{"Patient", "Patient.name.where(given[0] = 'x')", false},
		{"Patient", "Patient.telecom.where(system = 'phone' or system = 'sms')", false},
		{"Patient", "Patient.telecom.where(rank = 1)", false},
		{"Patient", "Patient.link.where(other.where(display = 'x') = 'y')", false},
		{"Patient", "%resource.id", false},
		{"Patient", "Organization.name", false}, // another type's branch
		{"Patient", "Patient.name.", false},
		{"Patient", "Patient.name.where(", false},
		{"Patient", "Patient.name.where(use = 'unterminated)", false},
	} {
		_, err := compileNative(tt.expr, tt.typ)
		if got := err == nil; got != tt.native {
			t.Errorf("compileNative(%q): native %v, want %v (err %v)", tt.expr, got, tt.native, err)
		}
	}
}
