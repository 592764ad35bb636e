package searchparam

import (
	"encoding/json"
	"testing"
)

// TestNativeMatchesLibrarySynthetic extends the comparison with the library
// to every native expression of every R4 resource type, most of which the
// fixtures do not have. For each type it builds a resource in which every
// path selects values of several shapes, next to decoys that the filters
// must drop (references to other types, urn:uuid: and contained targets,
// items whose system is not the one a where() wants, entries after [0]).
func TestNativeMatchesLibrarySynthetic(t *testing.T) {
	var all []fixture
	for _, rt := range ResourceTypes() {
		all = append(all, fixture{name: "synthetic", typ: rt, res: synthesize(rt)})
	}
	lib := libraryEvaluators(t, all)
	compared, values := 0, 0
	for _, f := range all {
		n, v, errs := compareOne(f, lib)
		compared += n
		values += v
		for _, err := range errs {
			t.Error(err)
		}
	}
	t.Logf("%d types, %d evaluations compared, %d values", len(all), compared, values)
	if values < compared {
		t.Errorf("only %d values for %d evaluations: the synthetic resources miss paths", values, compared)
	}
}

// synthesize builds a resource of type rt that every native parameter path
// reaches.
func synthesize(rt string) map[string]any {
	res := map[string]any{
		"resourceType": rt,
		"id":           "s1",
		"contained": []any{
			map[string]any{"resourceType": "Patient", "id": "c1"},
			map[string]any{"resourceType": "Practitioner", "id": "c2"},
		},
	}
	for _, p := range ForType(rt) {
		prog, ok := p.eval.(*program)
		if !ok {
			continue
		}
		for _, path := range prog.paths {
			grow(res, path, p.Type)
		}
	}
	return res
}

// grow adds to the map node what the steps need to select something.
func grow(node map[string]any, steps []step, typ Type) {
	if len(steps) == 0 {
		return
	}
	s := steps[0]
	if s.op != childOp && s.op != typedOp {
		return // filters are set up by the step before them
	}
	key, ok := elementKey(node, s, typ, len(steps) == 1)
	if !ok {
		return
	}
	if _, ok := node[key]; !ok {
		node[key] = build(steps[1:], typ, key[len(s.name):])
	}
	forEachMap(node[key], func(m map[string]any) { grow(m, skipFilters(steps[1:]), typ) })
}

// elementKey returns the property that step s should select in node. A
// choice element holds one variant only, as in valid resources: the one
// another parameter already put there, else the first the step allows (for
// a plain choice element at the end of a path, one that suits the
// parameter type). It is false when another variant is there already.
func elementKey(node map[string]any, s step, typ Type, leaf bool) (string, bool) {
	if len(s.keys) == 0 {
		return s.name, true
	}
	if _, ok := node[s.name]; ok && s.op == childOp {
		return s.name, true
	}
	for _, k := range choiceTypes[s.name] {
		if _, ok := node[s.name+k]; ok {
			return s.name + k, s.op == childOp || contains(s.keys, s.name+k)
		}
	}
	if s.op == typedOp {
		return s.keys[0], true
	}
	if leaf {
		for _, k := range s.keys {
			if contains(suits[typ], k[len(s.name):]) {
				return k, true
			}
		}
	}
	return s.name, true
}

// suits lists the choice types whose values parameters of each type index.
var suits = map[Type][]string{
	Date:      {"DateTime", "Period", "Timing", "Instant", "Date"},
	Token:     {"CodeableConcept", "Coding", "Identifier", "Code", "Boolean", "ContactPoint"},
	Reference: {"Reference", "Canonical", "Uri"},
	Quantity:  {"Quantity", "Age", "Duration", "Money", "SimpleQuantity", "Count", "Distance"},
	String:    {"String", "HumanName", "Address", "Markdown"},
	Number:    {"Decimal", "Integer", "PositiveInt", "UnsignedInt"},
	URI:       {"Uri", "Url", "Canonical"},
}

// build returns the value of an element followed by rest: leaves of the
// parameter's type at the end of the path, and for a filter the items it
// keeps and the decoys it drops.
func build(rest []step, typ Type, suffix string) any {
	if len(rest) == 0 {
		return leaves(typ, suffix)
	}
	switch s := rest[0]; s.op {
	case resolveIsOp:
		other := "Organization"
		if s.arg == other {
			other = "Patient"
		}
		return []any{
			map[string]any{"reference": s.arg + "/r1"},
			map[string]any{"reference": other + "/r2"},
			map[string]any{"reference": "http://example.org/fhir/" + s.arg + "/r3/_history/2"},
			map[string]any{"reference": "urn:uuid:5b2c8a80-2a3e-4d5b-9c4e-1f2a3b4c5d6e"},
			map[string]any{"reference": "#c1"},
			map[string]any{"reference": "#c2"},
			map[string]any{"type": s.arg, "identifier": map[string]any{"system": "urn:oid:1.2.3", "value": "42"}},
		}
	case whereEqOp:
		keep, drop := map[string]any{}, map[string]any{}
		setPath(keep, s.cond, s.arg)
		setPath(drop, s.cond, "decoy")
		return []any{keep, drop}
	case indexOp:
		decoy := map[string]any{}
		if len(rest) > 1 && rest[1].op == childOp {
			decoy[rest[1].name] = map[string]any{"resourceType": "Organization", "id": "decoy", "reference": "Organization/decoy"}
		}
		return []any{map[string]any{}, decoy}
	}
	return []any{map[string]any{}}
}

// setPath sets the element at the end of a where() sub-path.
func setPath(m map[string]any, steps []step, v string) {
	for i, s := range steps {
		key := s.name
		if s.op == typedOp {
			key = s.keys[0]
		}
		if i == len(steps)-1 {
			m[key] = v
			return
		}
		next := map[string]any{}
		m[key] = next
		m = next
	}
}

// skipFilters drops the filter steps that build has already set up.
func skipFilters(steps []step) []step {
	for len(steps) > 0 && steps[0].op != childOp && steps[0].op != typedOp {
		steps = steps[1:]
	}
	return steps
}

func forEachMap(v any, f func(map[string]any)) {
	switch v := v.(type) {
	case map[string]any:
		f(v)
	case []any:
		for _, x := range v {
			if m, ok := x.(map[string]any); ok {
				f(m)
			}
		}
	}
}

// leaves returns values of several shapes a parameter of type typ may
// index; when the element is a choice, suffix is its type ("Quantity") and
// the values are of that type.
func leaves(typ Type, suffix string) any {
	num := json.Number("5.40")
	quantity := map[string]any{"value": num, "unit": "mg", "system": "http://unitsofmeasure.org", "code": "mg"}
	period := map[string]any{"start": "2015-02-07T13:28:17+02:00", "end": "2016"}
	timing := map[string]any{"event": []any{"2015-03-01", "2014-12-31T23:00:00Z"}, "repeat": map[string]any{"boundsPeriod": map[string]any{"start": "2014-06"}}}
	concept := map[string]any{"coding": []any{
		map[string]any{"system": "http://loinc.org", "code": "8302-2", "display": "Body height"},
		map[string]any{"code": "h"},
	}, "text": "Taille"}
	identifier := map[string]any{"system": "urn:oid:1.2.250.1.213.1.4.8", "value": "1234567890123", "type": map[string]any{"text": "INS"}}
	references := []any{
		map[string]any{"reference": "Patient/p1", "display": "P"},
		map[string]any{"reference": "urn:uuid:5b2c8a80-2a3e-4d5b-9c4e-1f2a3b4c5d6e", "type": "Practitioner"},
		map[string]any{"identifier": map[string]any{"system": "urn:oid:1.2.3", "value": "42"}},
	}
	switch suffix {
	case "Period":
		return period
	case "Timing":
		return timing
	case "Age", "Duration", "Quantity", "SimpleQuantity", "Count", "Distance":
		return quantity
	case "Money":
		return map[string]any{"value": json.Number("10"), "currency": "EUR"}
	case "Range":
		return map[string]any{"low": quantity}
	case "Boolean":
		return true
	case "CodeableConcept":
		return concept
	case "Coding":
		return concept["coding"]
	case "Identifier":
		return identifier
	case "Reference":
		return references
	case "DateTime", "Instant":
		return "2015-02-07T13:28:17.239+02:00"
	case "Date":
		return "1987-05"
	case "Decimal", "Integer":
		return num
	case "String", "Code", "Markdown":
		return "Élodie Dupré"
	case "Uri", "Url", "Canonical":
		return "http://example.org/fhir/ValueSet/vs1|2.0"
	case "":
	default:
		return nil
	}
	switch typ {
	case String:
		return []any{
			"Élodie Dupré",
			map[string]any{"family": "Cœur", "given": []any{"Jean", "Émile"}, "prefix": []any{"Dr"}, "text": "Dr Jean Émile Cœur"},
			map[string]any{"line": []any{"3 rue de la Paix", "Bât. B"}, "city": "Saint-Étienne", "postalCode": "42000", "country": "FR"},
		}
	case Token:
		return []any{concept, identifier, map[string]any{"system": "email", "value": "a@example.org", "use": "work"}, "active", false}
	case Date:
		return []any{"2015-02-07T13:28:17.239+02:00", "1987", period, timing}
	case Reference:
		return append(references, "http://example.org/fhir/ValueSet/vs1|2.0")
	case Number:
		return []any{json.Number("12.50"), json.Number("3")}
	case Quantity:
		return []any{quantity, map[string]any{"value": json.Number("10"), "currency": "EUR"}}
	case URI:
		return []any{"http://example.org/fhir/StructureDefinition/x", "urn:oid:1.2.3"}
	}
	return "x"
}
