package rest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"math/big"
	"net/http"
	"strconv"
	"strings"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/validate"
	"github.com/carnet-sante/carnet/internal/store"
)

// patchOp is one JSON Patch operation (RFC 6902), or one FHIRPath Patch
// operation (fhirPath set; see fhirpatch.go).
type patchOp struct {
	Op         string
	Path, From string   // as written, for messages
	path, from []string // decoded JSON Pointers (RFC 6901)
	Value      any
	fhirPath   *fhirPathOp
}

// parsePatch decodes a JSON Patch document.
func parsePatch(body []byte) ([]patchOp, error) {
	dec := json.NewDecoder(bytes.NewReader(body))
	dec.UseNumber()
	var raw []map[string]any
	if err := dec.Decode(&raw); err != nil {
		var te *json.UnmarshalTypeError
		if errors.As(err, &te) {
			return nil, NewError(http.StatusBadRequest, "structure", "a JSON Patch is an array of operation objects ([{\"op\": \"replace\", \"path\": \"/active\", \"value\": false}])")
		}
		return nil, jsonError(body, err)
	}
	ops := make([]patchOp, len(raw))
	for i, m := range raw {
		op, err := parseOp(m)
		if err != nil {
			return nil, NewError(http.StatusBadRequest, "invalid", "JSON Patch operation %d: %v", i, err)
		}
		ops[i] = op
	}
	return ops, nil
}

func parseOp(m map[string]any) (patchOp, error) {
	var op patchOp
	op.Op, _ = m["op"].(string)
	var ok bool
	if op.Path, ok = m["path"].(string); !ok {
		return op, errors.New(`"path" is missing or not a string`)
	}
	var err error
	if op.path, err = pointer(op.Path); err != nil {
		return op, err
	}
	switch op.Op {
	case "add", "replace", "test":
		if op.Value, ok = m["value"]; !ok {
			return op, fmt.Errorf(`"%s" needs a "value"`, op.Op)
		}
	case "move", "copy":
		if op.From, ok = m["from"].(string); !ok {
			return op, fmt.Errorf(`"%s" needs a "from" pointer`, op.Op)
		}
		if op.from, err = pointer(op.From); err != nil {
			return op, err
		}
	case "remove":
	default:
		return op, fmt.Errorf(`unknown "op" %q: use add, remove, replace, move, copy or test`, op.Op)
	}
	return op, nil
}

// pointer decodes a JSON Pointer: "" is the whole document.
func pointer(s string) ([]string, error) {
	if s == "" {
		return nil, nil
	}
	if s[0] != '/' {
		return nil, fmt.Errorf("invalid JSON Pointer %q: it starts with /", s)
	}
	tokens := strings.Split(s[1:], "/")
	for i, t := range tokens {
		tokens[i] = strings.ReplaceAll(strings.ReplaceAll(t, "~1", "/"), "~0", "~")
	}
	return tokens, nil
}

// patch applies the JSON Patch of c to the current version of the
// resource it names and stores the result, which must still be a valid
// resource of the same type and id (422 otherwise).
func (h *Handler) patch(ctx context.Context, tx store.ResourceTx, c *call, at time.Time) (*result, error) {
	id := c.id
	if id == "" {
		found, err := h.matches(ctx, tx, c.typ, c.query, c.base, "conditional patch")
		switch {
		case err != nil:
			return nil, err
		case len(found) == 0:
			return nil, NewError(http.StatusNotFound, "not-found", "the conditional patch %s?%s matches no resource", c.typ, c.query.Encode())
		case len(found) > 1:
			return nil, NewError(http.StatusPreconditionFailed, "multiple-matches", "the conditional patch %s?%s matches several resources: make the criteria select one", c.typ, c.query.Encode())
		}
		id = found[0].ID
	}
	cur, err := h.readOne(ctx, tx, c.typ, id)
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(c, cur, true); err != nil {
		return nil, err
	}
	dec := json.NewDecoder(bytes.NewReader(cur.Content))
	dec.UseNumber()
	var doc any
	if err := dec.Decode(&doc); err != nil {
		return nil, fmt.Errorf("decoding %s/%s: %w", c.typ, id, err)
	}
	for i, op := range c.patch {
		format := "JSON Patch"
		if op.fhirPath != nil {
			format = "FHIRPath Patch"
			doc, err = op.fhirPath.apply(doc, c.typ, op.Value)
		} else {
			doc, err = op.apply(doc)
		}
		if err != nil {
			return nil, NewError(http.StatusUnprocessableEntity, "processing", "%s operation %d (%s %s): %v", format, i, op.Op, op.Path, err)
		}
	}
	res, _ := doc.(map[string]any)
	if rt, _ := res["resourceType"].(string); rt != c.typ {
		return nil, NewError(http.StatusUnprocessableEntity, "processing", "the patched document is no longer a %s", c.typ)
	}
	if rid, _ := res["id"].(string); rid != id {
		return nil, NewError(http.StatusUnprocessableEntity, "processing", "a patch cannot change the id of %s/%s", c.typ, id)
	}
	if issues := validate.Resource(res); issues != nil {
		e := invalid(issues)
		e.Status = http.StatusUnprocessableEntity
		return nil, prefixed(e, "the patched resource is invalid: ")
	}
	w, issues, skip, err := h.stage(ctx, tx, c, InteractionPatch, id, res, cur.Version+1, cur.Version, cur, at)
	switch {
	case err != nil:
		return nil, err
	case skip:
		return &result{status: http.StatusOK, resource: cur, write: true, issues: issues,
			message: "unchanged " + versionPath(cur) + ": the patched content equals the current version, no version was written"}, nil
	}
	if err := tx.Write(ctx, w); err != nil {
		return nil, err
	}
	return &result{status: http.StatusOK, resource: &w.Resource, write: true, message: "patched " + versionPath(&w.Resource), issues: issues}, nil
}

// apply applies one operation to doc and returns the new document.
func (op patchOp) apply(doc any) (any, error) {
	switch op.Op {
	case "add":
		return add(doc, op.path, CloneJSON(op.Value))
	case "remove":
		if len(op.path) == 0 {
			return nil, errors.New("cannot remove the whole resource")
		}
		doc, _, err := remove(doc, op.path)
		return doc, err
	case "replace":
		if len(op.path) == 0 {
			return CloneJSON(op.Value), nil
		}
		doc, _, err := remove(doc, op.path)
		if err != nil {
			return nil, err
		}
		return add(doc, op.path, CloneJSON(op.Value))
	case "move":
		if strings.HasPrefix(op.Path+"/", op.From+"/") && op.Path != op.From {
			return nil, errors.New("cannot move a value into itself")
		}
		if len(op.from) == 0 {
			return nil, errors.New("cannot move the whole resource")
		}
		doc, v, err := remove(doc, op.from)
		if err != nil {
			return nil, err
		}
		return add(doc, op.path, v)
	case "copy":
		v, err := get(doc, op.from)
		if err != nil {
			return nil, err
		}
		return add(doc, op.path, CloneJSON(v))
	}
	// test
	v, err := get(doc, op.path)
	if err != nil {
		return nil, err
	}
	if !jsonEqual(v, op.Value) {
		return nil, fmt.Errorf("test failed: the value is %s, not %s", mustJSON(v), mustJSON(op.Value))
	}
	return doc, nil
}

// modify walks doc to the container of the pointer's last token and
// replaces that container by what leaf returns.
func modify(node any, tokens []string, leaf func(container any, last string) (any, error)) (any, error) {
	if len(tokens) == 1 {
		return leaf(node, tokens[0])
	}
	switch n := node.(type) {
	case map[string]any:
		child, ok := n[tokens[0]]
		if !ok {
			return nil, fmt.Errorf("no element %q", tokens[0])
		}
		nc, err := modify(child, tokens[1:], leaf)
		n[tokens[0]] = nc
		return n, err
	case []any:
		i, err := arrayIndex(tokens[0], len(n)-1)
		if err != nil {
			return nil, err
		}
		nc, err := modify(n[i], tokens[1:], leaf)
		n[i] = nc
		return n, err
	}
	return nil, fmt.Errorf("%q is inside a value that is neither an object nor an array", tokens[0])
}

// add sets the value at path: a member of an object, or an insertion into
// an array ("-" appends).
func add(doc any, path []string, v any) (any, error) {
	if len(path) == 0 {
		return v, nil
	}
	return modify(doc, path, func(container any, last string) (any, error) {
		switch n := container.(type) {
		case map[string]any:
			n[last] = v
			return n, nil
		case []any:
			if last == "-" {
				return append(n, v), nil
			}
			i, err := arrayIndex(last, len(n))
			if err != nil {
				return nil, err
			}
			n = append(n, nil)
			copy(n[i+1:], n[i:])
			n[i] = v
			return n, nil
		}
		return nil, fmt.Errorf("cannot add %q to a value that is neither an object nor an array", last)
	})
}

// remove takes out the value at path and returns it.
func remove(doc any, path []string) (any, any, error) {
	var removed any
	doc, err := modify(doc, path, func(container any, last string) (any, error) {
		switch n := container.(type) {
		case map[string]any:
			v, ok := n[last]
			if !ok {
				return nil, fmt.Errorf("no element %q", last)
			}
			removed = v
			delete(n, last)
			return n, nil
		case []any:
			i, err := arrayIndex(last, len(n)-1)
			if err != nil {
				return nil, err
			}
			removed = n[i]
			return append(n[:i], n[i+1:]...), nil
		}
		return nil, fmt.Errorf("no element %q", last)
	})
	return doc, removed, err
}

// get returns the value at path.
func get(doc any, path []string) (any, error) {
	for _, t := range path {
		switch n := doc.(type) {
		case map[string]any:
			v, ok := n[t]
			if !ok {
				return nil, fmt.Errorf("no element %q", t)
			}
			doc = v
		case []any:
			i, err := arrayIndex(t, len(n)-1)
			if err != nil {
				return nil, err
			}
			doc = n[i]
		default:
			return nil, fmt.Errorf("no element %q", t)
		}
	}
	return doc, nil
}

// arrayIndex reads an array index of at most max.
func arrayIndex(t string, max int) (int, error) {
	i, err := strconv.Atoi(t)
	if err != nil || i < 0 || (len(t) > 1 && t[0] == '0') {
		return 0, fmt.Errorf("%q is not an array index", t)
	}
	if i > max {
		return 0, fmt.Errorf("index %d is past the end of the array", i)
	}
	return i, nil
}

// jsonEqual compares decoded JSON values, numbers by value.
func jsonEqual(a, b any) bool {
	switch a := a.(type) {
	case map[string]any:
		b, ok := b.(map[string]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for k, v := range a {
			if w, ok := b[k]; !ok || !jsonEqual(v, w) {
				return false
			}
		}
		return true
	case []any:
		b, ok := b.([]any)
		if !ok || len(a) != len(b) {
			return false
		}
		for i := range a {
			if !jsonEqual(a[i], b[i]) {
				return false
			}
		}
		return true
	case json.Number:
		b, ok := b.(json.Number)
		if !ok {
			return false
		}
		x, okx := new(big.Float).SetString(a.String())
		y, oky := new(big.Float).SetString(b.String())
		return okx && oky && x.Cmp(y) == 0
	}
	return a == b
}
