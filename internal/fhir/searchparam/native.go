package searchparam

// evaluator computes the nodes (decoded JSON values: map[string]any,
// []any elements, string, json.Number, bool) that an expression selects in
// a resource.
type evaluator interface {
	// eval appends the nodes to out.
	eval(r *resource, out []any) ([]any, error)
}

// resource is the state of one extraction: the resource, and buffers the
// evaluators reuse from one parameter to the next.
type resource struct {
	res map[string]any
	// data is res as JSON, marshalled on first need by the fallback.
	data []byte
	// nodes collects what the current expression selects; cond what the
	// sub-path of a where() does.
	nodes, cond []any
	// seen counts the items that reached the indexer of the current path.
	seen int
}

// compileEvaluator compiles the narrowed expression of a parameter of
// resourceType natively, or for the FHIRPath library when the native
// compiler does not handle it.
func compileEvaluator(expr, resourceType string) (evaluator, error) {
	if p, err := compileNative(expr, resourceType); err == nil {
		return p, nil
	}
	return compileFallback(expr)
}

// eval walks every path of the program from the resource.
func (p *program) eval(r *resource, out []any) ([]any, error) {
	for _, path := range p.paths {
		r.seen = 0
		out = r.walk(out, path, r.res)
	}
	return out, nil
}

// walk applies steps to the node n and appends what comes out.
func (r *resource) walk(out []any, steps []step, n any) []any {
	if len(steps) == 0 {
		return append(out, n)
	}
	s := &steps[0]
	switch s.op {
	case childOp, typedOp:
		m, ok := n.(map[string]any)
		if !ok {
			return out
		}
		if s.op == childOp {
			if c, ok := m[s.name]; ok {
				return r.each(out, steps[1:], c)
			}
		}
		for _, k := range s.keys {
			if c, ok := m[k]; ok {
				return r.each(out, steps[1:], c)
			}
		}
	case resolveIsOp:
		if r.targetType(n) == s.arg {
			return r.walk(out, steps[1:], n)
		}
	case whereEqOp:
		r.cond = r.walk(r.cond[:0], s.cond, n)
		if len(r.cond) == 1 {
			if v, ok := r.cond[0].(string); ok && v == s.arg {
				return r.walk(out, steps[1:], n)
			}
		}
	case indexOp:
		r.seen++
		if r.seen-1 == s.index {
			return r.walk(out, steps[1:], n)
		}
	}
	return out
}

// each applies steps to an element's value: to each item of an array, or
// to the value itself. JSON nulls are skipped.
func (r *resource) each(out []any, steps []step, v any) []any {
	if a, ok := v.([]any); ok {
		for _, x := range a {
			if x != nil {
				out = r.walk(out, steps, x)
			}
		}
		return out
	}
	if v == nil {
		return out
	}
	return r.walk(out, steps, v)
}
