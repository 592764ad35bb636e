// Package searchparam knows the FHIR R4 search parameters and extracts their
// values from resources, so that the store can index them.
//
// The definitions are the official R4 SearchParameter resources and the
// patient CompartmentDefinition, embedded in the binary (see data/NOTICE).
// Each parameter's FHIRPath expression is narrowed to the branch of the
// resource type at hand ("Observation.subject.where(resolve() is Patient)"
// rather than the union over thirty types) and compiled once, at first use,
// into a native evaluator over the map[string]any the server decodes a
// resource into. The few expressions the native evaluator does not handle
// are evaluated with github.com/gofhir/fhirpath instead; a test holds the
// two paths to the same values on every fixture resource.
//
// Extraction is on the ingest path, so it is written for speed: no
// re-serialisation, no reflection, no regular expressions.
//
// The package is pure: no I/O besides its embedded data, no global state
// besides the registry built once from that data. Everything is safe for
// concurrent use.
package searchparam

//go:generate go run gen_choice.go -dir $MEDPLUM_R4
