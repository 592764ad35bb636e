// Package fhirtest reads FHIR JSON answers in tests, as decoded by
// encoding/json into map[string]any: values at a dotted path, a Bundle's
// entries and the resources they hold. It is for tests only, like
// net/http/httptest.
package fhirtest

import "strings"

// At returns the value at a path of dotted keys and array indexes
// ("entry.0.resource.id"), or nil.
func At(v any, path string) any {
	for _, k := range strings.Split(path, ".") {
		switch n := v.(type) {
		case map[string]any:
			v = n[k]
		case []any:
			i := 0
			for _, c := range k {
				if c < '0' || c > '9' {
					return nil
				}
				i = i*10 + int(c-'0')
			}
			if i >= len(n) {
				return nil
			}
			v = n[i]
		default:
			return nil
		}
	}
	return v
}

// Str returns the string at a path (see At), or "".
func Str(v any, path string) string {
	s, _ := At(v, path).(string)
	return s
}

// Entries returns the entries of a Bundle.
func Entries(b map[string]any) []map[string]any {
	raw, _ := b["entry"].([]any)
	out := make([]map[string]any, len(raw))
	for i, e := range raw {
		out[i], _ = e.(map[string]any)
	}
	return out
}

// IDs returns Type/id of the resources of a Bundle's entries whose
// search mode is mode ("" for every entry with a resource).
func IDs(b map[string]any, mode string) []string {
	var out []string
	for _, e := range Entries(b) {
		if e["resource"] != nil && (mode == "" || Str(e, "search.mode") == mode) {
			out = append(out, Str(e, "resource.resourceType")+"/"+Str(e, "resource.id"))
		}
	}
	return out
}
