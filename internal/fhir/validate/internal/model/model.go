// Package model is the schema of the compact FHIR R4 structure model that
// the generator (../gen) writes and package validate embeds. Keeping the
// schema in one place means the writer and the reader cannot drift apart.
package model

// Model is everything the validator needs from the FHIR R4 base
// definitions: the shape of every resource and data type, and the codes of
// the value sets bound with strength "required" to code elements.
type Model struct {
	// Source says where the model was compiled from, for the record.
	Source string `json:"source"`
	// Types lists resources, complex data types and the anonymous
	// BackboneElement / Element types nested in them, sorted by name.
	Types []Type `json:"types"`
	// ValueSets maps a value set's canonical URL (without version) to its
	// codes, sorted.
	ValueSets map[string][]string `json:"valueSets"`
}

// Type is one structure: a resource ("Patient"), a complex data type
// ("HumanName"), or a nested anonymous type named by its element path
// ("Patient.contact", "Timing.repeat").
type Type struct {
	Name string `json:"name"`
	// Resource marks a concrete resource type, valid as resourceType.
	Resource bool `json:"resource,omitempty"`
	// Open marks a type from which the generator removed elements that are
	// not base R4 (distributor additions), so that it cannot tell which
	// properties R4 allows: properties it does not know are tolerated.
	Open bool `json:"open,omitempty"`
	// Elements are the type's direct children, in definition order.
	Elements []Element `json:"elements"`
}

// Element is one child element of a Type.
type Element struct {
	// Name is the element name; for a choice element it is the stem
	// ("value" for value[x]) and the JSON names are the stem followed by
	// each type name with its first letter upper-cased ("valueQuantity").
	Name   string `json:"name"`
	Choice bool   `json:"choice,omitempty"`
	// Types are the allowed type names: a primitive ("date"), a complex or
	// nested Type name, "Resource" for any resource, or a resource name.
	Types []string `json:"types"`
	// Min is the minimum cardinality: 1 means the element is required.
	Min int `json:"min,omitempty"`
	// Array is true when the element repeats (max > 1), which in JSON is
	// always an array, even with a single item.
	Array bool `json:"array,omitempty"`
	// ValueSet is the canonical URL (key of Model.ValueSets) of the value
	// set a code element is bound to with strength "required"; empty when
	// there is none or it could not be expanded from the definitions.
	ValueSet string `json:"valueSet,omitempty"`
}
