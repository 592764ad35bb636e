package searchparam

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"

	"github.com/gofhir/fhirpath"
	"github.com/gofhir/fhirpath/types"
)

// fallback evaluates an expression with the FHIRPath library, for the few
// expressions the native compiler does not handle. It costs about a
// hundred times more than a native path: the resource is marshalled back
// to JSON (once per extraction) and the library walks the bytes.
type fallback struct {
	expr *fhirpath.Expression
}

func compileFallback(expr string) (*fallback, error) {
	e, err := fhirpath.Compile(expr)
	if err != nil {
		return nil, err
	}
	return &fallback{expr: e}, nil
}

func (f *fallback) eval(r *resource, out []any) ([]any, error) {
	if r.data == nil {
		data, err := json.Marshal(r.res)
		if err != nil {
			return out, err
		}
		r.data = data
	}
	col, err := f.expr.EvaluateWithOptions(r.data,
		fhirpath.WithTimeout(0),
		fhirpath.WithResolver(resolver{r}))
	if err != nil {
		return out, fmt.Errorf("%s: %w", f.expr, err)
	}
	for _, v := range col {
		n, err := fromLibrary(v)
		if err != nil {
			return out, err
		}
		if n != nil {
			out = append(out, n)
		}
	}
	return out, nil
}

// fromLibrary converts a value of the FHIRPath library back to the node it
// came from in the decoded JSON. Values that come from no node (a Quantity
// literal…) give nil.
func fromLibrary(v types.Value) (any, error) {
	switch v := v.(type) {
	case *types.ObjectValue:
		d := json.NewDecoder(bytes.NewReader(v.Data()))
		d.UseNumber()
		var n any
		if err := d.Decode(&n); err != nil {
			return nil, err
		}
		return n, nil
	case types.String:
		return v.Value(), nil
	case types.Boolean:
		return v.Bool(), nil
	case types.Integer, types.Decimal:
		return json.Number(v.String()), nil
	case types.Date, types.DateTime, types.Time:
		return v.String(), nil
	}
	return nil, nil
}

// resolver gives the library's resolve() what the native evaluator knows
// of a reference's target: a stub {"resourceType": …} from the reference
// itself, or the contained resource. Nothing is fetched.
type resolver struct {
	r *resource
}

var errUnresolved = errors.New("reference target unknown")

func (rv resolver) Resolve(_ context.Context, ref string) ([]byte, error) {
	if len(ref) > 0 && ref[0] == '#' {
		if c := rv.r.contained(ref[1:]); c != nil {
			return json.Marshal(c)
		}
		return nil, errUnresolved
	}
	typ := rv.r.targetType(ref)
	if typ == "" {
		return nil, errUnresolved
	}
	return json.Marshal(map[string]string{"resourceType": typ})
}
