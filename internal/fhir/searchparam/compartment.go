package searchparam

import "strings"

// CompartmentParams returns the parameters that put a resource of type
// resourceType in a patient's compartment, as the R4 patient
// CompartmentDefinition lists them (Observation: subject, performer). It is
// nil for types outside the compartment (Organization, Medication…). The
// slice is shared: do not modify it.
func CompartmentParams(resourceType string) []*Param {
	return registry().compartment[resourceType]
}

// PatientRefs returns the ids of the patients in whose compartment the
// resource is, without duplicates: the Patient ids that its compartment
// parameters reference, in the order of CompartmentParams. A Patient is
// first in its own compartment, so its own id comes first (then the
// patients its link elements name).
//
// Only relative references ("Patient/123") count: an absolute URL may name
// a patient of another server that happens to have the same id, and
// putting a record in the wrong patient's compartment would show it to the
// wrong people; the server rewrites references to its own base into the
// relative form before storing. References whose target is not known to
// be a Patient (urn:uuid:, identifier-only) do not count either.
//
// The store uses the first id as the resource's patient_key and all of them
// for Patient/{id}/$everything and [type]?patient=.
func PatientRefs(resourceType string, res map[string]any) []string {
	var ids []string
	if resourceType == "Patient" {
		if id, _ := res["id"].(string); id != "" {
			ids = append(ids, id)
		}
	}
	params := CompartmentParams(resourceType)
	if len(params) == 0 {
		return ids
	}
	r := &resource{res: res}
	var vals []Value
	for _, p := range params {
		// Compartment parameters are all references compiled natively, whose
		// values carry no error: the error can only come from a fallback.
		vals, _ = r.appendParam(vals[:0], p)
		for _, v := range vals {
			if v.RefType == "Patient" && v.RefID != "" && !strings.Contains(v.URL, "://") && !contains(ids, v.RefID) {
				ids = append(ids, v.RefID)
			}
		}
	}
	return ids
}

func contains(list []string, s string) bool {
	for _, x := range list {
		if x == s {
			return true
		}
	}
	return false
}
