// Package validate checks that decoded JSON is a structurally valid FHIR R4
// resource (http://hl7.org/fhir/R4/json.html), so that the server can
// answer a bad request with an OperationOutcome naming the faulty element
// instead of storing it.
//
// It checks, driven by the R4 base StructureDefinitions compiled into an
// embedded model (see NOTICE.md):
//   - resourceType is present and names an R4 resource; contained
//     resources, Bundle.entry.resource and Parameters.parameter.resource are
//     validated as resources in their own right;
//   - every property is an element of its type (unknown ones are errors),
//     including choice elements (value[x] as exactly one of valueString,
//     valueQuantity…) and primitive extension companions (_birthDate, and
//     _given arrays aligned with given, with nulls where one side is empty);
//   - arrays for repeating elements and single values otherwise; required
//     elements (min ≥ 1) are present; no empty object, empty array, empty
//     string or null (except for the alignment nulls above);
//   - each primitive's JSON type and lexical form, as the R4 regexes state,
//     plus existing calendar dates and 32-bit integer ranges;
//   - codes of code elements bound to a value set with strength required,
//     when the definitions enumerate it (Patient.gender, Bundle.type…);
//   - extensions: url required, one value[x] or nested extensions, not
//     both (ext-1); contained resources hold no contained resources (dom-2).
//
// It does not check profiles (meta.profile), other invariants, reference
// targets, bindings of Coding / CodeableConcept, nor value sets that need
// an external terminology (mime types, currencies, languages).
//
// Validation is designed for the ingest path: the model is compiled once,
// on first use; a valid resource is walked once without building any
// string or allocating. Only when a problem is found is the resource walked
// again to collect the issues in a deterministic order.
package validate

import (
	"encoding/json"
	"fmt"
	"slices"
	"strconv"
	"strings"
	"sync"
	"unicode/utf8"
)

// Issue is one problem found in a resource, in the terms of a FHIR
// OperationOutcome.issue.
type Issue struct {
	// Severity is the OperationOutcome severity: "error" for every issue
	// found today, all of which make the resource invalid; "warning" is
	// reserved for checks that should not reject a resource.
	Severity string
	// Code is the FHIR IssueType: "structure" (unknown element, wrong JSON
	// type, array vs single value, empty or null), "required" (missing
	// element), "value" (bad primitive value), "code-invalid" (code not in
	// a required value set), "invalid" (unknown resourceType) or
	// "invariant" (ext-1, dom-2).
	Code string
	// Path locates the element in FHIRPath style with JSON property names:
	// Patient.name[0].given[1], Bundle.entry[2].resource.birthDate,
	// Observation.valueQuantity.
	Path string
	// Message says what is wrong, naming the offending value.
	Message string
}

// MaxIssues caps the issues reported for one resource; the rest of a very
// broken resource is not examined.
const MaxIssues = 100

// Issue codes (FHIR IssueType).
const (
	codeStructure = "structure"
	codeRequired  = "required"
	codeValue     = "value"
	codeCodeInval = "code-invalid"
	codeInvalid   = "invalid"
	codeInvariant = "invariant"
)

// Resource validates a resource decoded from JSON, with numbers as
// json.Number (json.Decoder.UseNumber) so that integers and decimals are
// checked as written; float64 numbers are accepted too, checked by value.
// It returns nil when the resource is valid, otherwise its issues, at most
// MaxIssues, always in the same order: depth first, each object's
// properties in byte order of their names, then its missing required
// elements. Resource is safe for concurrent use.
func Resource(res map[string]any) []Issue {
	s := loadSchema()
	v := pool.Get().(*validator)
	defer pool.Put(v)
	v.reset(s, true)
	v.root(res)
	if !v.failed {
		return nil
	}
	// Walk again, this time visiting properties in sorted order (map
	// iteration order is random) and recording every issue.
	v.reset(s, false)
	v.root(res)
	issues := v.issues
	v.issues = nil
	return issues
}

var pool = sync.Pool{New: func() any { return &validator{path: make([]segment, 0, 16)} }}

// segment is one step of the path: a property name and, inside an array,
// the item index (-1 otherwise).
type segment struct {
	name  string
	index int
}

// validator walks one resource. In fast mode it stops at the first issue
// and records nothing; otherwise it records issues, visiting properties in
// sorted order.
type validator struct {
	s      *schema
	fast   bool
	failed bool // an issue was found
	done   bool // stop walking: fast mode failed, or MaxIssues reached
	path   []segment
	issues []Issue
	keys   []string // scratch for sorting property names
}

func (v *validator) reset(s *schema, fast bool) {
	v.s, v.fast, v.failed, v.done = s, fast, false, false
	v.path = v.path[:0]
	v.issues = nil
}

func (v *validator) push(name string) { v.path = append(v.path, segment{name: name, index: -1}) }
func (v *validator) pop()             { v.path = v.path[:len(v.path)-1] }
func (v *validator) index(i int)      { v.path[len(v.path)-1].index = i }

// fail records an issue at the current path, or at the current path
// followed by child when child is not empty.
func (v *validator) fail(code, child, format string, args ...any) {
	v.failed = true
	if v.fast {
		v.done = true
		return
	}
	v.issues = append(v.issues, Issue{Severity: "error", Code: code, Path: v.pathString(child), Message: fmt.Sprintf(format, args...)})
	if len(v.issues) == MaxIssues {
		v.done = true
	}
}

func (v *validator) pathString(child string) string {
	var b strings.Builder
	for _, s := range v.path {
		if s.name != "" {
			if b.Len() > 0 {
				b.WriteByte('.')
			}
			b.WriteString(s.name)
		}
		if s.index >= 0 {
			b.WriteByte('[')
			b.WriteString(strconv.Itoa(s.index))
			b.WriteByte(']')
		}
	}
	if child != "" {
		if b.Len() > 0 {
			b.WriteByte('.')
		}
		b.WriteString(child)
	}
	return b.String()
}

// root validates a top-level resource, whose path starts with its type.
func (v *validator) root(res map[string]any) {
	if rt, _ := res["resourceType"].(string); v.s.resources[rt] != nil {
		v.push(rt)
	}
	v.resource(res, nil, false)
}

// resource validates an object that must carry a resourceType, of type
// want if not nil. inContained is true for a contained resource.
func (v *validator) resource(obj map[string]any, want *typeDef, inContained bool) {
	rt, present := obj["resourceType"]
	name, _ := rt.(string)
	t := v.s.resources[name]
	switch {
	case !present:
		v.fail(codeRequired, "resourceType", "missing resourceType: a resource must name its type")
		return
	case t == nil:
		v.fail(codeInvalid, "resourceType", "unknown resourceType %s: not an R4 resource type", quote(rt))
		return
	case want != nil && t != want:
		v.fail(codeStructure, "resourceType", "resourceType %s where %s is expected", name, want.name)
		return
	}
	if _, nested := obj["contained"]; nested && inContained {
		v.fail(codeInvariant, "contained", "a contained resource cannot contain resources (dom-2)")
	}
	v.object(t, obj)
}

// objectState is what object learns about an object's properties while
// visiting them.
type objectState struct {
	chosen [maxChoices]*elemDef // variant present for each choice group
	seen   uint64               // bits of the required elements present
}

// object validates a JSON object against a structure.
func (v *validator) object(t *typeDef, obj map[string]any) {
	if len(obj) == 0 {
		v.fail(codeStructure, "", "empty object is not allowed (omit the property instead)")
		return
	}
	// ele-1; a primitive's companion may hold only an id, the value being
	// beside it.
	if _, ok := obj["id"]; ok && len(obj) == 1 && !t.resource && t != v.s.element {
		v.fail(codeStructure, "", "an element with only an id must have a value or children (ele-1)")
	}
	var st objectState
	if v.fast {
		for k, val := range obj {
			v.property(t, obj, k, val, &st)
			if v.done {
				return
			}
		}
	} else {
		start := len(v.keys)
		for k := range obj {
			v.keys = append(v.keys, k)
		}
		keys := v.keys[start:]
		slices.Sort(keys)
		for _, k := range keys {
			v.property(t, obj, k, obj[k], &st)
			if v.done {
				break
			}
		}
		v.keys = v.keys[:start]
		if v.done {
			return
		}
	}
	if st.seen != t.reqMask {
		for _, r := range t.required {
			if st.seen&r.bit == 0 {
				v.fail(codeRequired, r.label, "missing required element %s", r.label)
			}
		}
	}
	if t.extValue >= 0 {
		_, nested := obj["extension"]
		switch hasValue := st.chosen[t.extValue] != nil; {
		case hasValue && nested:
			v.fail(codeInvariant, "", "an extension has either a value[x] or nested extensions, not both (ext-1)")
		case !hasValue && !nested:
			v.fail(codeInvariant, "", "an extension needs a value[x] or nested extensions (ext-1)")
		}
	}
}

// property validates one property of an object of type t.
func (v *validator) property(t *typeDef, obj map[string]any, k string, val any, st *objectState) {
	name, isCompanion := strings.CutPrefix(k, "_")
	e := t.props[name]
	if e == nil || isCompanion && e.kind != kindPrimitive {
		if k == "resourceType" && t.resource || t.open {
			return
		}
		v.fail(codeStructure, k, "unknown element %s in %s", k, t.name)
		return
	}
	if e.choice >= 0 {
		if prev := st.chosen[e.choice]; prev != nil && prev != e {
			v.fail(codeStructure, k, "%s has only one value: both %s and %s are present", e.label, prev.prop, e.prop)
		}
		st.chosen[e.choice] = e
	}
	st.seen |= e.reqBit
	v.push(k)
	if isCompanion {
		value, hasValue := obj[e.prop]
		v.companion(e, val, value, hasValue)
	} else {
		v.value(e, val, obj)
	}
	v.pop()
}

// value validates the value of element e, an array or a single value.
func (v *validator) value(e *elemDef, val any, obj map[string]any) {
	arr, isArray := val.([]any)
	switch {
	case val == nil:
		v.fail(codeStructure, "", "null is not allowed (omit the property instead)")
		return
	case e.array && !isArray:
		v.fail(codeStructure, "", "%s repeats: its value must be an array", e.label)
		return
	case !e.array && isArray:
		v.fail(codeStructure, "", "%s does not repeat: its value must be a single %s, not an array", e.label, e.typeName)
		return
	case !e.array:
		v.single(e, val)
		return
	case len(arr) == 0:
		v.fail(codeStructure, "", "empty array is not allowed (omit the property instead)")
		return
	}
	for i, item := range arr {
		v.index(i)
		switch {
		case item != nil:
			v.single(e, item)
		case e.kind != kindPrimitive:
			v.fail(codeStructure, "", "null is not allowed in an array")
		default:
			// A null stands for a primitive whose companion has the content.
			if ext, _ := obj[e.companion].([]any); i >= len(ext) || ext[i] == nil {
				v.fail(codeStructure, "", "null is not allowed here (only to align with %s)", e.companion)
			}
		}
		if v.done {
			return
		}
	}
}

// companion validates the _name property of a primitive element e: its id
// and extensions, a single object or an array aligned with the values.
func (v *validator) companion(e *elemDef, val, value any, hasValue bool) {
	arr, isArray := val.([]any)
	switch {
	case val == nil:
		v.fail(codeStructure, "", "null is not allowed (omit the property instead)")
		return
	case !e.array:
		if isArray {
			v.fail(codeStructure, "", "%s does not repeat: %s must be a single object", e.label, e.companion)
			return
		}
		v.element(val)
		return
	case !isArray:
		v.fail(codeStructure, "", "%s repeats: %s must be an array aligned with %s", e.label, e.companion, e.prop)
		return
	case len(arr) == 0:
		v.fail(codeStructure, "", "empty array is not allowed (omit the property instead)")
		return
	}
	values, _ := value.([]any)
	if hasValue && values != nil && len(values) != len(arr) {
		v.fail(codeStructure, "", "%s has %d items and %s %d: the arrays must align", e.companion, len(arr), e.prop, len(values))
	}
	for i, item := range arr {
		v.index(i)
		if item != nil {
			v.element(item)
		} else if !hasValue {
			v.fail(codeStructure, "", "null is not allowed here (only to align with %s)", e.prop)
		}
		if v.done {
			return
		}
	}
}

// element validates a primitive's companion object (an Element: id and
// extensions).
func (v *validator) element(val any) {
	obj, ok := val.(map[string]any)
	if !ok {
		v.fail(codeStructure, "", "expected a JSON object (id and extension of a primitive), got %s", jsonType(val))
		return
	}
	v.object(v.s.element, obj)
}

// single validates one non-null value of element e.
func (v *validator) single(e *elemDef, val any) {
	switch e.kind {
	case kindPrimitive:
		v.primitive(e, val)
	case kindComplex:
		obj, ok := val.(map[string]any)
		if !ok {
			v.fail(codeStructure, "", "expected a JSON object (%s), got %s", e.typeName, jsonType(val))
			return
		}
		v.object(e.typ, obj)
	case kindResource:
		obj, ok := val.(map[string]any)
		if !ok {
			v.fail(codeStructure, "", "expected a resource (JSON object), got %s", jsonType(val))
			return
		}
		v.resource(obj, e.typ, e.contained)
	}
}

// primitive validates the value of a primitive element: its JSON type,
// its lexical form and, for a bound code, its value set.
func (v *validator) primitive(e *elemDef, val any) {
	if want, got := e.prim.jsonKind(), jsonType(val); want != got {
		v.fail(codeStructure, "", "%s is a JSON %s, got %s", e.typeName, want, got)
		return
	}
	var reason string
	switch x := val.(type) {
	case string:
		reason = checkString(e.prim, x)
		if reason == "" && e.codes != nil {
			if _, ok := e.codes[x]; !ok {
				v.fail(codeCodeInval, "", "code %s is not in the value set %s%s", quote(x), e.valueSet, v.allowed(e.valueSet))
			}
		}
	case json.Number:
		reason = checkNumber(e.prim, string(x))
	case float64:
		reason = checkFloat(e.prim, x)
	}
	if reason != "" {
		v.fail(codeValue, "", "invalid %s %s: %s", e.typeName, quote(val), reason)
	}
}

// allowed lists a value set's codes for a message, when there are few.
func (v *validator) allowed(url string) string {
	codes := v.s.valueSets[url]
	if len(codes) > 20 {
		return fmt.Sprintf(" (%d codes)", len(codes))
	}
	return " (allowed: " + strings.Join(codes, ", ") + ")"
}

// jsonType names the JSON type of a decoded value.
func jsonType(val any) string {
	switch val.(type) {
	case nil:
		return "null"
	case string:
		return "string"
	case json.Number, float64:
		return "number"
	case bool:
		return "boolean"
	case []any:
		return "array"
	case map[string]any:
		return "object"
	}
	return fmt.Sprintf("%T", val)
}

// quote renders a value for a message, shortened if long.
func quote(val any) string {
	var s string
	switch x := val.(type) {
	case string:
		s = x
	case json.Number, float64:
		return numberLiteral(x)
	default:
		return jsonType(val)
	}
	if len(s) > 64 {
		cut := 64
		for cut > 0 && !utf8.RuneStart(s[cut]) {
			cut--
		}
		s = s[:cut] + "…"
	}
	return strconv.Quote(s)
}
