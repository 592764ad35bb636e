package searchparam

import "strings"

// parseReference returns the target type, logical id and _history version
// named by a RESTful reference, relative ("Patient/123",
// "Patient/123/_history/2") or absolute ("https://host/fhir/Patient/123"),
// or by a canonical URL ending in Type/id. It returns empty strings for
// anything else: urn:uuid: and urn:oid: URIs, contained ("#id") and
// conditional ("Patient?identifier=…") references, or a last-but-one
// segment that is not a resource type.
func parseReference(ref string) (typ, id, version string) {
	if strings.HasPrefix(ref, "urn:") || strings.ContainsAny(ref, "?#") {
		return "", "", ""
	}
	rest, last := cutLast(ref)
	if prev, seg := cutLast(rest); seg == "_history" {
		version = last
		rest, last = cutLast(prev)
	}
	_, typ = cutLast(rest)
	if !validID(last) || !IsResourceType(typ) {
		return "", "", ""
	}
	return typ, last, version
}

// cutLast splits s at its last '/': "a/b/c" gives "a/b" and "c"; s without
// '/' gives "" and s.
func cutLast(s string) (rest, last string) {
	i := strings.LastIndexByte(s, '/')
	if i < 0 {
		return "", s
	}
	return s[:i], s[i+1:]
}

// validID reports whether s is a valid FHIR logical id:
// [A-Za-z0-9\-\.]{1,64}.
func validID(s string) bool {
	if len(s) == 0 || len(s) > 64 {
		return false
	}
	for i := 0; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9' || c == '-' || c == '.') {
			return false
		}
	}
	return true
}

// targetType returns the type of the resource that a reference (a
// Reference, or a reference string) points to, as resolve() would find it
// without fetching anything: from the reference itself, or from the
// contained resource for "#id". It is "" when the reference does not say,
// as for urn:uuid: references (a transaction rewrites those before the
// resources are stored and indexed).
func (r *resource) targetType(n any) string {
	var ref string
	switch n := n.(type) {
	case string:
		ref = n
	case map[string]any:
		ref = str(n, "reference")
	}
	if ref == "" {
		return ""
	}
	if ref[0] == '#' {
		return r.containedType(ref[1:])
	}
	typ, _, _ := parseReference(ref)
	return typ
}

// contained returns the contained resource with the given id, or nil.
func (r *resource) contained(id string) map[string]any {
	cs, _ := r.res["contained"].([]any)
	for _, c := range cs {
		if m, ok := c.(map[string]any); ok && id != "" && str(m, "id") == id {
			return m
		}
	}
	return nil
}

// containedType returns the type of the contained resource with the given
// id, or "".
func (r *resource) containedType(id string) string {
	return str(r.contained(id), "resourceType")
}
