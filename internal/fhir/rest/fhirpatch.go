package rest

import (
	"errors"
	"fmt"
	"net/http"
	"strconv"
	"strings"

	"github.com/carnet-sante/carnet/internal/fhir/validate"
)

// FHIRPath Patch (http://hl7.org/fhir/R4/fhirpatch.html) is the patch
// format carried by a Parameters resource, one "operation" parameter per
// change. IHE MHD uses it in ITI-65 to mark a replaced DocumentReference
// superseded. This server implements the subset that needs no FHIRPath
// engine:
//   - the operations add, insert, delete and replace (not move);
//   - paths made of element names, each optionally followed by an index
//     ([0]) or by one filter .where(name = 'text') on a list, such as
//     DocumentReference.extension.where(url = 'https://…').value.
//
// A path must select one element (delete accepts none: it then does
// nothing). Each operation is turned into JSON Pointers on the current
// version when it is applied, and applied as the JSON Patch operation of
// the same meaning.

// fhirPathOp is a FHIRPath Patch operation, kept on a patchOp.
type fhirPathOp struct {
	typ   string     // add, insert, delete, replace
	steps []pathStep // the path, below the resource type
	name  string     // add: the element to add
	index int        // insert: the position in the list
}

// pathStep is one element of a FHIRPath Patch path.
type pathStep struct {
	name string
	// index is the [n] after the name, -1 if none.
	index int
	// whereKey and whereValue are a .where(key = 'value') filter after
	// the name, "" if none.
	whereKey, whereValue string
}

// parseFHIRPathPatch reads the operations of a FHIRPath Patch Parameters
// resource of a patch on a resource of type typ. Its errors name the
// parameter at fault.
func parseFHIRPathPatch(typ string, res map[string]any) ([]patchOp, error) {
	if rt, _ := res["resourceType"].(string); rt != "Parameters" {
		return nil, NewError(http.StatusBadRequest, "not-supported", "a FHIRPath Patch is a Parameters resource, not a %q", rt)
	}
	params, _ := res["parameter"].([]any)
	if len(params) == 0 {
		return nil, NewError(http.StatusBadRequest, "required", "Parameters.parameter is missing: a FHIRPath Patch has one \"operation\" parameter per change")
	}
	ops := make([]patchOp, len(params))
	for i, p := range params {
		at := fmt.Sprintf("Parameters.parameter[%d]", i)
		op, err := parseFHIRPathOp(typ, p)
		if err != nil {
			e := NewError(http.StatusBadRequest, "invalid", "%s: %v", at, err)
			e.Issues[0].Expression = []string{at}
			return nil, e
		}
		ops[i] = op
	}
	return ops, nil
}

func parseFHIRPathOp(typ string, p any) (patchOp, error) {
	m, _ := p.(map[string]any)
	if name, _ := m["name"].(string); name != "operation" {
		return patchOp{}, fmt.Errorf("parameter %q: a FHIRPath Patch has only \"operation\" parameters", name)
	}
	parts := map[string]map[string]any{}
	list, _ := m["part"].([]any)
	for _, x := range list {
		part, _ := x.(map[string]any)
		name, _ := part["name"].(string)
		if _, dup := parts[name]; dup {
			return patchOp{}, fmt.Errorf("part %q is given twice", name)
		}
		parts[name] = part
	}
	fp := &fhirPathOp{}
	fp.typ, _ = parts["type"]["valueCode"].(string)
	path, _ := parts["path"]["valueString"].(string)
	if path == "" {
		return patchOp{}, errors.New(`the "path" part (valueString) is missing`)
	}
	var err error
	if fp.steps, err = parsePatchPath(typ, path); err != nil {
		return patchOp{}, err
	}
	op := patchOp{Op: fp.typ, Path: path, fhirPath: fp}
	switch fp.typ {
	case "delete":
	case "replace", "add", "insert":
		if op.Value, err = partValue(parts["value"]); err != nil {
			return patchOp{}, err
		}
		if fp.typ == "add" {
			if fp.name, _ = parts["name"]["valueString"].(string); fp.name == "" {
				return patchOp{}, errors.New(`"add" needs a "name" part (valueString): the element to add at the path`)
			}
		}
		if fp.typ == "insert" {
			n, ok := parts["index"]["valueInteger"]
			i, err := strconv.Atoi(fmt.Sprint(n))
			if !ok || err != nil || i < 0 {
				return patchOp{}, errors.New(`"insert" needs an "index" part (valueInteger, from 0)`)
			}
			fp.index = i
		}
	case "move":
		return patchOp{}, errors.New(`the FHIRPath Patch operation "move" is not supported: use delete and insert`)
	default:
		return patchOp{}, fmt.Errorf(`unknown operation type %q: use add, insert, delete or replace (part "type", valueCode)`, fp.typ)
	}
	return op, nil
}

// partValue returns the value of a "value" part: its value[x], or the
// object its own parts describe (one element per part, a repeated name
// making a list). Inside such an object, a part named "value" keeps the
// name of its value[x] (valueBoolean…), as an Extension needs.
func partValue(part map[string]any) (any, error) {
	if part == nil {
		return nil, errors.New(`the "value" part is missing`)
	}
	for k, v := range part {
		if strings.HasPrefix(k, "value") {
			return CloneJSON(v), nil
		}
	}
	parts, _ := part["part"].([]any)
	if len(parts) == 0 {
		return nil, errors.New(`the "value" part has neither a value[x] nor parts`)
	}
	obj := map[string]any{}
	for _, x := range parts {
		p, _ := x.(map[string]any)
		name, _ := p["name"].(string)
		v, err := partValue(p)
		if err != nil {
			return nil, fmt.Errorf("value part %q: %v", name, err)
		}
		if name == "value" {
			for k := range p {
				if strings.HasPrefix(k, "value") {
					name = k
				}
			}
		}
		switch prev := obj[name].(type) {
		case nil:
			obj[name] = v
		case []any:
			obj[name] = append(prev, v)
		default:
			obj[name] = []any{prev, v}
		}
	}
	return obj, nil
}

// parsePatchPath reads a path of the supported subset; it starts with the
// resource type.
func parsePatchPath(typ, path string) ([]pathStep, error) {
	rest, ok := strings.CutPrefix(path, typ)
	if !ok || rest != "" && rest[0] != '.' {
		return nil, fmt.Errorf("path %q does not start with %s", path, typ)
	}
	var steps []pathStep
	for rest != "" {
		rest = rest[1:] // the '.'
		end := strings.IndexAny(rest, ".[")
		if end < 0 {
			end = len(rest)
		}
		s := pathStep{name: rest[:end], index: -1}
		rest = rest[end:]
		if !validName(s.name) {
			return nil, fmt.Errorf("path %q: %q is not an element name (this server supports element names, [index] and .where(name = 'text'))", path, s.name)
		}
		if strings.HasPrefix(rest, "[") {
			close := strings.IndexByte(rest, ']')
			i, err := strconv.Atoi(rest[1:max(close, 1)])
			if close < 0 || err != nil || i < 0 {
				return nil, fmt.Errorf("path %q: malformed index after %s", path, s.name)
			}
			s.index, rest = i, rest[close+1:]
		} else if w, ok := strings.CutPrefix(rest, ".where("); ok {
			close := strings.IndexByte(w, ')')
			key, val, eq := strings.Cut(w[:max(close, 0)], "=")
			key, val = strings.TrimSpace(key), strings.TrimSpace(val)
			if close < 0 || !eq || !validName(key) || len(val) < 2 || val[0] != '\'' || val[len(val)-1] != '\'' {
				return nil, fmt.Errorf("path %q: this server supports .where(name = 'text') filters only", path)
			}
			s.whereKey, s.whereValue, rest = key, val[1:len(val)-1], w[close+1:]
		}
		if rest != "" && rest[0] != '.' {
			return nil, fmt.Errorf("path %q: unexpected %q", path, rest)
		}
		steps = append(steps, s)
	}
	return steps, nil
}

func validName(s string) bool {
	if s == "" {
		return false
	}
	for _, c := range s {
		if !('a' <= c && c <= 'z' || 'A' <= c && c <= 'Z' || '0' <= c && c <= '9' || c == '_') {
			return false
		}
	}
	return true
}

// apply applies the operation to doc, a resource of type typ.
func (fp *fhirPathOp) apply(doc any, typ string, value any) (any, error) {
	switch fp.typ {
	case "delete":
		ptr, found, err := locate(doc, fp.steps, false)
		if err != nil || !found {
			return doc, err
		}
		if len(ptr) == 0 {
			return nil, errors.New("cannot delete the whole resource")
		}
		if doc, _, err = remove(doc, ptr); err != nil {
			return nil, err
		}
		// FHIR JSON has no empty lists: deleting the last item deletes the list.
		if parent := ptr[:len(ptr)-1]; len(parent) > 0 {
			if list, _ := get(doc, parent); list != nil {
				if l, ok := list.([]any); ok && len(l) == 0 {
					doc, _, err = remove(doc, parent)
				}
			}
		}
		return doc, err
	case "replace":
		ptr, found, err := locate(doc, fp.steps, false)
		if err != nil {
			return nil, err
		}
		if !found {
			return nil, errors.New("no element at this path to replace")
		}
		if len(ptr) == 0 {
			return nil, errors.New("cannot replace the whole resource")
		}
		if doc, _, err = remove(doc, ptr); err != nil {
			return nil, err
		}
		return add(doc, ptr, CloneJSON(value))
	case "insert":
		ptr, found, err := locate(doc, fp.steps, true)
		if err != nil {
			return nil, err
		}
		list, _ := get(doc, ptr)
		if _, isList := list.([]any); !found || !isList {
			return nil, errors.New("the path does not select a list to insert into")
		}
		return add(doc, append(ptr, strconv.Itoa(fp.index)), CloneJSON(value))
	}
	// add
	ptr, found, err := locate(doc, fp.steps, false)
	if err != nil {
		return nil, err
	}
	if !found {
		return nil, errors.New("no element at this path to add to")
	}
	container, _ := get(doc, ptr)
	obj, ok := container.(map[string]any)
	if !ok {
		return nil, errors.New("the path does not select an element that can hold " + fp.name)
	}
	switch obj[fp.name].(type) {
	case []any:
		return add(doc, append(ptr, fp.name, "-"), CloneJSON(value))
	case nil:
		repeats, known := validate.Repeats(typ, append(elementNames(fp.steps), fp.name))
		if known && repeats {
			return add(doc, append(ptr, fp.name), []any{CloneJSON(value)})
		}
		return add(doc, append(ptr, fp.name), CloneJSON(value))
	default:
		return nil, fmt.Errorf("%s is already set: use replace", fp.name)
	}
}

// elementNames are the element names of the steps, indexes and filters
// left out.
func elementNames(steps []pathStep) []string {
	names := make([]string, len(steps))
	for i, s := range steps {
		names[i] = s.name
	}
	return names
}

// locate resolves steps on doc to a JSON Pointer; found is false when an
// element on the way is absent. A list without an index or filter must
// hold one item, since a path must select a single element, except at the
// end of the path of an insert, which selects the whole list.
func locate(doc any, steps []pathStep, wholeList bool) (ptr []string, found bool, err error) {
	node := doc
	for n, s := range steps {
		obj, ok := node.(map[string]any)
		if !ok {
			return nil, false, fmt.Errorf("%s is inside a value that has no elements", s.name)
		}
		child, ok := obj[s.name]
		if !ok {
			return nil, false, nil
		}
		ptr = append(ptr, s.name)
		list, isList := child.([]any)
		switch {
		case !isList && (s.index > 0 || s.whereKey != ""):
			return nil, false, fmt.Errorf("%s is not a list", s.name)
		case !isList, wholeList && n == len(steps)-1 && s.index < 0:
			node = child
			continue
		case s.whereKey != "":
			i, matches := -1, 0
			for j, item := range list {
				if m, _ := item.(map[string]any); m != nil && m[s.whereKey] == s.whereValue {
					i, matches = j, matches+1
				}
			}
			if matches > 1 {
				return nil, false, fmt.Errorf("%s.where(%s = '%s') selects %d elements, not one", s.name, s.whereKey, s.whereValue, matches)
			}
			if matches == 0 {
				return nil, false, nil
			}
			s.index = i
		case s.index < 0 && len(list) != 1:
			return nil, false, fmt.Errorf("%s holds %d elements: give an index, e.g. %s[0]", s.name, len(list), s.name)
		case s.index < 0:
			s.index = 0
		case s.index >= len(list):
			return nil, false, nil
		}
		ptr = append(ptr, strconv.Itoa(s.index))
		node = list[s.index]
	}
	return ptr, true, nil
}

// fhirPathPatchBody reads the body of a PATCH sent as
// application/fhir+json: a FHIRPath Patch Parameters resource.
func fhirPathPatchBody(typ string, body []byte) ([]patchOp, error) {
	res, err := decodeResource(body)
	if err != nil {
		return nil, err
	}
	if issues := validate.Resource(res); issues != nil {
		return nil, invalid(issues)
	}
	return parseFHIRPathPatch(typ, res)
}
