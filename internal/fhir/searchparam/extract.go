package searchparam

import "fmt"

// Extract returns the values of every search parameter of a resource of
// type resourceType, decoded from JSON with json.Decoder.UseNumber (numbers
// must be json.Number) into res. Values come grouped by parameter, in the
// order of ForType, without duplicates within a parameter.
//
// Composite and special parameters (the "near" of Location) have no values:
// stores search composites on the values of their components.
//
// An error means the resource is not what validation should have let
// through (resourceType mismatch, a date that is not a date…).
func Extract(resourceType string, res map[string]any) ([]Value, error) {
	params := ForType(resourceType)
	if params == nil {
		return nil, fmt.Errorf("searchparam: unknown resource type %q", resourceType)
	}
	if rt, _ := res["resourceType"].(string); rt != resourceType {
		return nil, fmt.Errorf("searchparam: resourceType is %q, want %q", rt, resourceType)
	}
	r := &resource{res: res}
	out := make([]Value, 0, 16) // most resources have fewer values than parameters
	for _, p := range params {
		var err error
		if out, err = r.appendParam(out, p); err != nil {
			return nil, fmt.Errorf("searchparam: %s.%w", resourceType, err)
		}
	}
	return out, nil
}

// appendParam appends the values of one parameter, without duplicates.
func (r *resource) appendParam(out []Value, p *Param) ([]Value, error) {
	if p.eval == nil {
		return out, nil
	}
	var err error
	r.nodes, err = p.eval.eval(r, r.nodes[:0])
	if err != nil {
		return out, fmt.Errorf("%s: %w", p.Code, err)
	}
	start := len(out)
	for _, n := range r.nodes {
		if out, err = appendValues(out, p, r, n); err != nil {
			return out, err
		}
	}
	return dedup(out, start), nil
}

// dedup removes the values of out[start:] equal to an earlier one: the
// same code in two codings, or the same value reached by two branches of a
// union, would otherwise make duplicate index rows.
func dedup(out []Value, start int) []Value {
	n := start
	for i := start; i < len(out); i++ {
		dup := false
		for j := start; j < n; j++ {
			if out[j] == out[i] {
				dup = true
				break
			}
		}
		if !dup {
			out[n] = out[i]
			n++
		}
	}
	return out[:n]
}
