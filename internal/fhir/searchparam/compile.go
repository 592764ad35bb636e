package searchparam

import (
	"errors"
	"fmt"
	"strconv"
	"strings"
)

// This file compiles a parsed expression into a native program: a union of
// paths, each a list of steps walked over the decoded JSON. The forms
// compiled are those the R4 search expressions use:
//
//	Observation.code.coding          element navigation (and Resource.id)
//	name | alias                     unions, paths relative to the resource
//	Observation.effective            choice elements (effectiveDateTime…)
//	Observation.value as Quantity    as / .as() / .ofType() on a choice element
//	x.where(resolve() is Patient)    reference target type
//	x.where(system = 'phone')        equality of a sub-path with a string
//	Bundle.entry[0].resource         indexer on the whole path
//	(A as T).text                    trailing steps after a parenthesised union
//
// Anything else is errUnsupported, and the expression goes to the library.
// A FHIRPath union removes duplicates; the paths of a program do not, but
// Extract removes duplicate values, which comes to the same.

var errUnsupported = errors.New("not supported natively")

// program is a natively compiled expression.
type program struct {
	paths [][]step
}

type stepOp uint8

const (
	// childOp selects the element name, or, when name is a choice element
	// and absent, the first of keys present.
	childOp stepOp = iota
	// typedOp selects the first of keys present: the typed forms of a
	// choice element (valueQuantity, valueAge…) that an as/ofType keeps.
	typedOp
	// resolveIsOp keeps references to resources of type arg.
	resolveIsOp
	// whereEqOp keeps items whose sub-path cond is one string equal to arg.
	whereEqOp
	// indexOp keeps the index-th item of the collection so far.
	indexOp
)

// step is one step of a path; which fields are used depends on op.
type step struct {
	op    stepOp
	name  string   // childOp, typedOp: element name ("value")
	keys  []string // childOp, typedOp: typed property names ("valueQuantity")
	cond  []step   // whereEqOp: the sub-path compared
	arg   string   // resolveIsOp: resource type; whereEqOp: the string
	index int      // indexOp
}

// compileNative compiles the narrowed expression of a parameter of
// resourceType.
func compileNative(expr, resourceType string) (*program, error) {
	n, err := parse(expr)
	if err != nil {
		return nil, err
	}
	c := compiler{resourceType: resourceType}
	paths, err := c.paths(n, false)
	if err != nil {
		return nil, err
	}
	return &program{paths: paths}, nil
}

type compiler struct {
	resourceType string
}

// paths compiles n into the paths whose union it is. Inside a where()
// (relative true) paths start at $this, not at the resource.
func (c compiler) paths(n *node, relative bool) ([][]step, error) {
	switch n.kind {
	case binaryNode:
		if n.name != "|" || relative {
			return nil, fmt.Errorf("%w: operator %s", errUnsupported, n.name)
		}
		l, err := c.paths(n.x, false)
		if err != nil {
			return nil, err
		}
		r, err := c.paths(n.y, false)
		if err != nil {
			return nil, err
		}
		return append(l, r...), nil

	case thisNode:
		if !relative {
			return nil, fmt.Errorf("%w: $this outside where()", errUnsupported)
		}
		return [][]step{nil}, nil

	case identNode:
		if n.x == nil {
			return c.root(n.name, relative)
		}
		base, err := c.paths(n.x, relative)
		if err != nil {
			return nil, err
		}
		return appendStep(base, c.child(n.name))

	case typeNode:
		if n.name != "as" {
			return nil, fmt.Errorf("%w: is outside where()", errUnsupported)
		}
		return c.typed(n.x, n.typ, relative)

	case callNode:
		return c.call(n, relative)

	case indexNode:
		idx, err := strconv.Atoi(n.y.name)
		if relative || n.y.kind != numberNode || err != nil {
			return nil, fmt.Errorf("%w: indexer", errUnsupported)
		}
		base, err := c.paths(n.x, false)
		if err != nil {
			return nil, err
		}
		if len(base) != 1 || hasIndex(base[0]) {
			return nil, fmt.Errorf("%w: indexer on a union", errUnsupported)
		}
		return appendStep(base, step{op: indexOp, index: idx})
	}
	return nil, fmt.Errorf("%w: %q", errUnsupported, n.name)
}

// root compiles the first identifier of a path: the resource type (or
// Resource, DomainResource) selects the resource itself, a lower-case name
// an element of the resource (or of $this inside where()).
func (c compiler) root(name string, relative bool) ([][]step, error) {
	if !relative && (name == c.resourceType || name == "Resource" || name == "DomainResource") {
		return [][]step{nil}, nil
	}
	if name[0] >= 'a' && name[0] <= 'z' {
		return [][]step{{c.child(name)}}, nil
	}
	return nil, fmt.Errorf("%w: path root %s", errUnsupported, name)
}

// child is the step selecting element name, with the typed property names
// to try when it is a choice element.
func (c compiler) child(name string) step {
	s := step{op: childOp, name: name}
	for _, t := range choiceTypes[name] {
		s.keys = append(s.keys, name+t)
	}
	return s
}

func (c compiler) call(n *node, relative bool) ([][]step, error) {
	switch {
	case (n.name == "as" || n.name == "ofType") && len(n.args) == 1 && n.args[0].kind == identNode && n.args[0].x == nil:
		if n.x == nil {
			return nil, fmt.Errorf("%w: %s() without a receiver", errUnsupported, n.name)
		}
		return c.typed(n.x, n.args[0].name, relative)

	case n.name == "where" && len(n.args) == 1 && n.x != nil:
		base, err := c.paths(n.x, relative)
		if err != nil {
			return nil, err
		}
		s, err := c.where(n.args[0])
		if err != nil {
			return nil, err
		}
		return appendStep(base, s)
	}
	return nil, fmt.Errorf("%w: function %s", errUnsupported, n.name)
}

// typed compiles "x as T": x must end with a choice element that may be a
// T, of which only the typed forms that are T (or, for Quantity, its
// profiles) are kept.
func (c compiler) typed(x *node, typeName string, relative bool) ([][]step, error) {
	base, err := c.paths(x, relative)
	if err != nil {
		return nil, err
	}
	out := make([][]step, 0, len(base))
	for _, p := range base {
		if len(p) == 0 || p[len(p)-1].op != childOp || len(p[len(p)-1].keys) == 0 {
			return nil, fmt.Errorf("%w: %s on an element that is not a choice", errUnsupported, typeName)
		}
		last := p[len(p)-1]
		s := step{op: typedOp, name: last.name}
		for _, k := range last.keys {
			if isType(k[len(last.name):], typeName) {
				s.keys = append(s.keys, k)
			}
		}
		if len(s.keys) == 0 {
			return nil, fmt.Errorf("%w: %s is never a %s", errUnsupported, last.name, typeName)
		}
		out = append(out, append(p[:len(p)-1:len(p)-1], s))
	}
	return out, nil
}

// quantityProfiles are the R4 types that are profiles of Quantity, and so
// are Quantity for "as Quantity".
var quantityProfiles = map[string]bool{
	"Age": true, "Count": true, "Distance": true, "Duration": true, "MoneyQuantity": true, "SimpleQuantity": true,
}

// isType reports whether values of the FHIR type t (as in property names:
// "DateTime", "Age") are of the FHIRPath type name (as in expressions:
// "dateTime", "Quantity").
func isType(t, name string) bool {
	return strings.EqualFold(t, name) || name == "Quantity" && quantityProfiles[t]
}

// where compiles the criteria of a where().
func (c compiler) where(n *node) (step, error) {
	switch {
	case n.kind == typeNode && n.name == "is" && n.x.kind == callNode && n.x.name == "resolve" && n.x.x == nil && len(n.x.args) == 0:
		return step{op: resolveIsOp, arg: n.typ}, nil

	case n.kind == binaryNode && n.name == "=" && n.y.kind == stringNode:
		cond, err := c.paths(n.x, true)
		if err != nil {
			return step{}, err
		}
		if len(cond) != 1 {
			return step{}, fmt.Errorf("%w: union in where()", errUnsupported)
		}
		for _, s := range cond[0] {
			if s.op != childOp && s.op != typedOp {
				return step{}, fmt.Errorf("%w: where() criteria", errUnsupported)
			}
		}
		return step{op: whereEqOp, cond: cond[0], arg: n.y.name}, nil
	}
	return step{}, fmt.Errorf("%w: where() criteria", errUnsupported)
}

// appendStep appends s to copies of every path: paths may share their
// backing arrays after a union was distributed.
func appendStep(paths [][]step, s step) ([][]step, error) {
	out := make([][]step, len(paths))
	for i, p := range paths {
		if s.op == indexOp && len(paths) > 1 {
			return nil, fmt.Errorf("%w: indexer on a union", errUnsupported)
		}
		out[i] = append(p[:len(p):len(p)], s)
	}
	return out, nil
}

func hasIndex(p []step) bool {
	for _, s := range p {
		if s.op == indexOp {
			return true
		}
	}
	return false
}
