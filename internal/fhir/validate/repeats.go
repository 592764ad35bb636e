package validate

// Repeats reports whether the element at path (JSON property names below
// a resource of type resourceType, e.g. ["content", "attachment", "url"])
// is a list (max cardinality above 1) in FHIR R4; ok is false when no
// such element exists. A FHIRPath Patch "add" needs it to know whether to
// append to a list or to set a single value.
func Repeats(resourceType string, path []string) (repeats, ok bool) {
	t := loadSchema().resources[resourceType]
	if t == nil || len(path) == 0 {
		return false, false
	}
	for i, name := range path {
		e := t.props[name]
		if e == nil {
			return false, false
		}
		if i == len(path)-1 {
			return e.array, true
		}
		if t = e.typ; t == nil {
			return false, false
		}
	}
	return false, false
}
