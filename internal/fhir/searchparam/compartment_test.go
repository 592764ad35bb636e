package searchparam_test

import (
	"slices"
	"testing"

	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
)

func TestCompartmentParams(t *testing.T) {
	for _, tt := range []struct {
		typ  string
		want []string
	}{
		{"Observation", []string{"subject", "performer"}},
		{"DocumentReference", []string{"subject", "author"}},
		{"AllergyIntolerance", []string{"patient", "recorder", "asserter"}},
		{"Patient", []string{"link"}},
		{"Organization", nil},
		{"Nope", nil},
	} {
		var got []string
		for _, p := range searchparam.CompartmentParams(tt.typ) {
			got = append(got, p.Code)
		}
		if !slices.Equal(got, tt.want) {
			t.Errorf("CompartmentParams(%s) = %v, want %v", tt.typ, got, tt.want)
		}
	}
}

// TestCompartmentParamsNative holds the promise PatientRefs relies on:
// compartment parameters are references evaluated natively.
func TestCompartmentParamsNative(t *testing.T) {
	for _, rt := range searchparam.ResourceTypes() {
		for _, p := range searchparam.CompartmentParams(rt) {
			if p.Type != searchparam.Reference || !p.Native() {
				t.Errorf("%s %s: %s, native %v", rt, p.Code, p.Type, p.Native())
			}
		}
	}
}

func TestPatientRefs(t *testing.T) {
	for _, tt := range []struct {
		name, resource string
		want           []string
	}{
		{"patient itself first, then linked patients",
			`{"resourceType":"Patient","id":"p1","link":[{"other":{"reference":"Patient/p0"},"type":"replaces"},{"other":{"reference":"RelatedPerson/r1"},"type":"seealso"}]}`,
			[]string{"p1", "p0"}},
		{"subject and performer",
			`{"resourceType":"Observation","subject":{"reference":"Patient/p1"},"performer":[{"reference":"Practitioner/d1"},{"reference":"Patient/p2"},{"reference":"Patient/p1"}]}`,
			[]string{"p1", "p2"}},
		{"versioned reference",
			`{"resourceType":"Encounter","subject":{"reference":"Patient/p1/_history/3"}}`,
			[]string{"p1"}},
		{"absolute reference: maybe another server's patient",
			`{"resourceType":"Encounter","subject":{"reference":"https://fhir.example.org/Patient/p1"}}`,
			nil},
		{"group subject",
			`{"resourceType":"Observation","subject":{"reference":"Group/g1"}}`,
			nil},
		{"unresolved urn:uuid and identifier-only references",
			`{"resourceType":"Observation","subject":{"reference":"urn:uuid:5b2c8a80-2a3e-4d5b-9c4e-1f2a3b4c5d6e","type":"Patient"},"performer":[{"type":"Patient","identifier":{"value":"x"}}]}`,
			nil},
		{"outside the compartment",
			`{"resourceType":"Organization","id":"o1"}`,
			nil},
		{"document",
			`{"resourceType":"DocumentReference","subject":{"reference":"Patient/fr-patient-123"},"author":[{"reference":"PractitionerRole/pr1"}]}`,
			[]string{"fr-patient-123"}},
	} {
		t.Run(tt.name, func(t *testing.T) {
			res := decode(t, tt.resource)
			if got := searchparam.PatientRefs(res["resourceType"].(string), res); !slices.Equal(got, tt.want) {
				t.Errorf("PatientRefs = %v, want %v", got, tt.want)
			}
		})
	}
}
