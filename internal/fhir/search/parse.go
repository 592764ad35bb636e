package search

import (
	"fmt"
	"net/url"
	"slices"
	"strconv"
	"strings"
	"unicode/utf8"

	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
)

// Options tune Parse.
type Options struct {
	// Base is the server's FHIR base URL ("https://host/fhir"). A reference
	// value starting with it is read as the relative reference it names,
	// since the server stores references to itself in the relative form.
	Base string
}

// Request is a search read from URL parameters: the query for the store
// and how to present its results.
type Request struct {
	Query Query
	// Summary is _summary when it changes the representation: "text",
	// "data" or "false" ("" when absent). _summary=count sets
	// Query.SummaryCount instead.
	Summary string
	// Elements is _elements: the top-level elements to return.
	Elements []string
	// Applied holds the parameters Parse applied, as given, for the
	// searchset's self link.
	Applied url.Values
	// Ignored lists the parameters Parse did not apply, in order of name:
	// unknown to the resource type, or not supported by this server. A
	// caller that wants strict handling refuses the search when it is not
	// empty.
	Ignored []Ignored
}

// Ignored is a search parameter that was not applied, and why.
type Ignored struct {
	Param  string
	Reason string
}

// Error is a search parameter with a value or modifier the server cannot
// accept: the search must be refused (HTTP 400). Param is the parameter
// as written in the URL.
type Error struct {
	Param   string
	Message string
}

func (e *Error) Error() string { return "search parameter " + e.Param + ": " + e.Message }

// unsupported marks a parameter that is valid FHIR but not applied by this
// server; Parse records it in Request.Ignored.
type unsupported struct{ reason string }

func (u *unsupported) Error() string { return u.reason }

// resultParams are the parameters that shape the result rather than
// select resources; they are handled apart from search clauses.
var resultParams = map[string]bool{
	"_count": true, "_sort": true, "_total": true, "_summary": true, "_elements": true,
	"_include": true, "_revinclude": true, "_include:iterate": true, "_revinclude:iterate": true,
	"_include:recurse": true, "_revinclude:recurse": true,
}

// notSupported are standard parameters this server does not apply.
var notSupported = map[string]string{
	"_contained":     "_contained is not supported: contained resources are not searched",
	"_containedType": "_containedType is not supported",
	"_type":          "_type applies to searches across all types, which are not supported",
	"_list":          "_list is not supported",
	"_filter":        "_filter is not supported",
	"_query":         "named queries (_query) are not supported",
	"_text":          "_text (narrative search) is not supported",
	"_content":       "_content (full-text search) is not supported",
}

// Parse reads a search on resourceType from URL parameters
// (http://hl7.org/fhir/R4/search.html): every standard parameter of the
// type with its modifiers, prefixes, OR (comma, "\," for a literal comma)
// and AND (the parameter repeated); one level of chaining
// (subject:Patient.name=, subject.name= when one target type has the
// parameter); _has:Type:ref:param=; _id, _lastUpdated, _count, _sort,
// _include, _revinclude (with :iterate), _total, _summary, _elements.
//
// resourceType must be an R4 resource type (searchparam.IsResourceType).
// Unknown parameters and those the server does not support are listed in
// Request.Ignored; an invalid value, modifier or result parameter is an
// *Error naming the parameter. A single-valued reference search on a
// patient parameter of a type in the patient compartment also sets
// Query.Compartment, so that the store can go straight to that patient's
// shard; the clause stays, so the result is the same.
func Parse(resourceType string, params url.Values, opt Options) (*Request, error) {
	p := parser{opt: opt, req: &Request{Query: Query{Type: resourceType}, Applied: url.Values{}}}
	keys := make([]string, 0, len(params))
	for k := range params {
		keys = append(keys, k)
	}
	slices.Sort(keys)
	for _, key := range keys {
		values := params[key]
		if err := checkText(key, values); err != nil {
			return nil, err
		}
		var err error
		if resultParams[key] {
			err = p.result(key, values)
		} else {
			err = p.search(key, values)
		}
		if u, ok := err.(*unsupported); ok {
			p.req.Ignored = append(p.req.Ignored, Ignored{Param: key, Reason: u.reason})
			continue
		}
		if err != nil {
			return nil, err
		}
		p.req.Applied[key] = values
	}
	p.compartment()
	return p.req, nil
}

// checkText refuses a parameter whose name or values are not valid UTF-8
// or hold NUL: no resource can match them, and no database takes them as
// text.
func checkText(key string, values []string) error {
	for _, s := range append([]string{key}, values...) {
		if !utf8.ValidString(s) || strings.IndexByte(s, 0) >= 0 {
			return &Error{strings.ToValidUTF8(key, "\uFFFD"), "invalid UTF-8 or a NUL character (%00)"}
		}
	}
	return nil
}

type parser struct {
	opt Options
	req *Request
}

// search parses the search clauses of one parameter name: one clause per
// repetition (AND).
func (p *parser) search(key string, values []string) error {
	if reason, ok := notSupported[key]; ok {
		return &unsupported{reason}
	}
	for _, raw := range values {
		c, err := p.clause(p.req.Query.Type, key, raw, true)
		if err != nil {
			return err
		}
		p.req.Query.Where = append(p.req.Query.Where, c)
	}
	return nil
}

// clause parses one parameter of resource type typ: name[:modifier] with
// an optional chain (.param) or a reverse chain (_has:…) when outer.
func (p *parser) clause(typ, key, raw string, outer bool) (Clause, error) {
	if rest, ok := strings.CutPrefix(key, "_has:"); ok {
		if !outer {
			return Clause{}, &Error{key, "_has cannot be nested in a chain or another _has"}
		}
		return p.has(typ, key, rest, raw)
	}
	name, chain, chained := strings.Cut(key, ".")
	code, modifier, _ := strings.Cut(name, ":")
	sp, ok := searchparam.Lookup(typ, code)
	if !ok {
		return Clause{}, &unsupported{fmt.Sprintf("%s has no search parameter %q", typ, code)}
	}
	if sp.Expression == "" || sp.Type == searchparam.Composite || sp.Type == searchparam.Special {
		return Clause{}, &unsupported{fmt.Sprintf("the %s parameter %q (%s) is not supported", typ, code, sp.Type)}
	}
	c := Clause{Param: code, Type: ParamType(sp.Type), Modifier: modifier}
	if chained {
		if !outer {
			return Clause{}, &Error{key, "only one level of chaining is supported"}
		}
		return p.chain(typ, key, sp, c, chain, raw)
	}
	if err := checkModifier(sp, modifier); err != nil {
		return Clause{}, &Error{key, err.Error()}
	}
	if modifier == "missing" {
		switch raw {
		case "true", "false":
			c.Values = []Value{{Missing: raw == "true"}}
			return c, nil
		}
		return Clause{}, &Error{key, fmt.Sprintf("the :missing modifier takes true or false, not %q", raw)}
	}
	for _, v := range splitUnescaped(raw, ',') {
		val, err := p.value(sp, modifier, v)
		if err != nil {
			return Clause{}, &Error{key, err.Error()}
		}
		c.Values = append(c.Values, val)
	}
	return c, nil
}

// chain parses subject[:Type].param[:modifier]=value.
func (p *parser) chain(typ, key string, sp *searchparam.Param, c Clause, chain, raw string) (Clause, error) {
	if sp.Type != searchparam.Reference {
		return Clause{}, &Error{key, fmt.Sprintf("%s is a %s parameter: only reference parameters can be chained", c.Param, sp.Type)}
	}
	if strings.Contains(chain, ".") {
		return Clause{}, &Error{key, "only one level of chaining is supported"}
	}
	target := c.Modifier
	chainCode, _, _ := strings.Cut(chain, ":")
	if target == "" {
		var candidates []string
		for _, t := range sp.Targets {
			if _, ok := searchparam.Lookup(t, chainCode); ok {
				candidates = append(candidates, t)
			}
		}
		switch len(candidates) {
		case 0:
			return Clause{}, &unsupported{fmt.Sprintf("no target type of %s.%s has a search parameter %q", typ, c.Param, chainCode)}
		case 1:
			target = candidates[0]
		default:
			return Clause{}, &Error{key, fmt.Sprintf("%s may refer to %s, which all have %q: name the type, as in %s:%s.%s",
				c.Param, strings.Join(candidates, ", "), chainCode, c.Param, candidates[0], chain)}
		}
	} else if !slices.Contains(sp.Targets, target) {
		return Clause{}, &Error{key, fmt.Sprintf("%s.%s cannot refer to a %q (it refers to %s)", typ, c.Param, target, strings.Join(sp.Targets, ", "))}
	}
	inner, err := p.clause(target, chain, raw, false)
	if err != nil {
		return Clause{}, qualify(err, key)
	}
	c.Modifier = ""
	c.Chain = &Chain{Type: target, Clause: inner}
	return c, nil
}

// has parses _has:Type:ref:param[:modifier]=value, rest being what follows
// "_has:".
func (p *parser) has(typ, key, rest, raw string) (Clause, error) {
	parts := strings.SplitN(rest, ":", 3)
	if len(parts) < 3 || parts[0] == "" || parts[1] == "" || parts[2] == "" {
		return Clause{}, &Error{key, "write _has:Type:reference:parameter, e.g. _has:Observation:patient:code"}
	}
	src, ref, param := parts[0], parts[1], parts[2]
	if strings.HasPrefix(param, "_has:") {
		return Clause{}, &Error{key, "nested _has is not supported"}
	}
	if !searchparam.IsResourceType(src) {
		return Clause{}, &Error{key, fmt.Sprintf("%q is not a FHIR R4 resource type", src)}
	}
	rp, ok := searchparam.Lookup(src, ref)
	if !ok || rp.Type != searchparam.Reference {
		return Clause{}, &Error{key, fmt.Sprintf("%s has no reference parameter %q", src, ref)}
	}
	if !slices.Contains(rp.Targets, typ) {
		return Clause{}, &Error{key, fmt.Sprintf("%s.%s cannot refer to a %s", src, ref, typ)}
	}
	inner, err := p.clause(src, param, raw, false)
	if err != nil {
		return Clause{}, qualify(err, key)
	}
	return Clause{Param: "_has", Type: Reference, Has: &Has{Type: src, Ref: ref, Clause: inner}}, nil
}

// qualify reports an error of the inner clause of a chain or _has under
// the whole parameter name.
func qualify(err error, key string) error {
	if e, ok := err.(*Error); ok {
		return &Error{key, e.Message}
	}
	return err
}

// checkModifier accepts the modifiers this server applies to parameters
// of sp's type. FHIR requires refusing a search with a modifier the server
// does not support, rather than ignoring it.
func checkModifier(sp *searchparam.Param, m string) error {
	if m == "" || m == "missing" {
		return nil
	}
	switch sp.Type {
	case searchparam.String:
		if m == "exact" || m == "contains" {
			return nil
		}
	case searchparam.Token:
		if m == "text" || m == "not" {
			return nil
		}
	case searchparam.Reference:
		if m == "identifier" {
			return nil
		}
		if searchparam.IsResourceType(m) {
			if !slices.Contains(sp.Targets, m) {
				return fmt.Errorf("%s cannot refer to a %s (it refers to %s)", sp.Code, m, strings.Join(sp.Targets, ", "))
			}
			return nil
		}
	}
	return fmt.Errorf("the modifier :%s is not supported on %s parameters", m, sp.Type)
}

// value parses one value (between commas) of parameter sp.
func (p *parser) value(sp *searchparam.Param, modifier, raw string) (Value, error) {
	if raw == "" {
		return Value{}, fmt.Errorf("empty value: give a value, or use :missing=true")
	}
	switch {
	case sp.Type == searchparam.Token && modifier == "text":
		return Value{Text: unescape(raw)}, nil
	case sp.Type == searchparam.Token, sp.Type == searchparam.Reference && modifier == "identifier":
		return token(raw), nil
	}
	switch sp.Type {
	case searchparam.String, searchparam.URI:
		return Value{Text: unescape(raw)}, nil
	case searchparam.Date:
		prefix, rest := splitPrefix(raw)
		low, high, err := searchparam.ParseDate(unescape(rest))
		if err != nil {
			hint := "use YYYY, YYYY-MM, YYYY-MM-DD or YYYY-MM-DDThh:mm[:ss][Z|±hh:mm], with an optional prefix (ge2020-01-01)"
			if strings.Contains(rest, " ") {
				hint = "a '+' in a time zone must be written %2B in a URL"
			}
			return Value{}, fmt.Errorf("invalid date %q: %s", raw, hint)
		}
		return Value{Prefix: prefix, Low: low, High: high}, nil
	case searchparam.Number:
		prefix, rest := splitPrefix(raw)
		if !isNumber(rest) {
			return Value{}, fmt.Errorf("invalid number %q", raw)
		}
		if _, err := strconv.ParseFloat(rest, 64); err != nil {
			return Value{}, fmt.Errorf("the number %q is out of range", raw)
		}
		return Value{Prefix: prefix, Number: rest}, nil
	case searchparam.Quantity:
		return quantity(raw)
	case searchparam.Reference:
		return p.reference(sp, modifier, unescape(raw))
	}
	return Value{}, fmt.Errorf("%s parameters are not supported", sp.Type)
}

// token parses [system|]code: a bare code matches any system, "|code"
// only codes without a system, "system|" any code of the system.
func token(raw string) Value {
	parts := splitUnescaped(raw, '|')
	if len(parts) == 1 {
		return Value{Code: unescape(raw)}
	}
	return Value{System: unescape(parts[0]), Code: unescape(strings.Join(parts[1:], "|")), HasSystem: true}
}

// quantity parses [prefix]number[|system|code]; "number||code" matches the
// code in any system.
func quantity(raw string) (Value, error) {
	prefix, rest := splitPrefix(raw)
	parts := splitUnescaped(rest, '|')
	if !isNumber(parts[0]) {
		return Value{}, fmt.Errorf("invalid quantity %q: write [prefix]number[|system|code]", raw)
	}
	if _, err := strconv.ParseFloat(parts[0], 64); err != nil {
		return Value{}, fmt.Errorf("the number of %q is out of range", raw)
	}
	v := Value{Prefix: prefix, Number: parts[0]}
	switch len(parts) {
	case 1:
	case 3:
		v.System, v.Code = unescape(parts[1]), unescape(parts[2])
		v.HasSystem = v.System != ""
	default:
		return Value{}, fmt.Errorf("invalid quantity %q: write [prefix]number[|system|code]", raw)
	}
	return v, nil
}

// reference parses a reference value: id, Type/id, Type/id/_history/v, or
// an absolute URL (the server's own base stripped).
func (p *parser) reference(sp *searchparam.Param, modifier, s string) (Value, error) {
	if p.opt.Base != "" {
		if rel, ok := strings.CutPrefix(s, strings.TrimSuffix(p.opt.Base, "/")+"/"); ok {
			s = rel
		}
	}
	if strings.HasPrefix(s, "urn:") || strings.Contains(s, "://") {
		return Value{URL: s}, nil
	}
	seg := strings.Split(s, "/")
	var typ, id string
	switch {
	case len(seg) == 1:
		id = seg[0]
		typ = modifier
		if typ == "" && len(sp.Targets) == 1 {
			typ = sp.Targets[0]
		}
	case len(seg) == 2, len(seg) == 4 && seg[2] == "_history":
		typ, id = seg[0], seg[1]
		if !searchparam.IsResourceType(typ) {
			return Value{}, fmt.Errorf("invalid reference %q: %q is not a FHIR R4 resource type", s, typ)
		}
		if modifier != "" && modifier != typ {
			return Value{}, fmt.Errorf("the reference %q contradicts the modifier :%s", s, modifier)
		}
	default:
		return Value{}, fmt.Errorf("invalid reference %q: write id, Type/id or an absolute URL", s)
	}
	if !ValidID(id) {
		return Value{}, fmt.Errorf("invalid reference %q: an id has 1 to 64 letters, digits, '-' or '.'", s)
	}
	return Value{RefType: typ, RefID: id}, nil
}

// ValidID reports whether s is a valid FHIR logical id:
// [A-Za-z0-9\-\.]{1,64}.
func ValidID(s string) bool {
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

// splitPrefix takes the comparison prefix off a number, date or quantity
// value ("ge2020" → ge, "2020"); no prefix means eq.
func splitPrefix(s string) (Prefix, string) {
	if len(s) > 2 {
		switch pre := Prefix(s[:2]); pre {
		case Eq, Ne, Lt, Gt, Le, Ge, Sa, Eb, Ap:
			return pre, s[2:]
		}
	}
	return Eq, s
}

// isNumber reports whether s is a decimal number, optionally with an
// exponent: [+-]digits[.digits][e[+-]digits].
func isNumber(s string) bool {
	i := 0
	if i < len(s) && (s[i] == '-' || s[i] == '+') {
		i++
	}
	digits := func() int {
		n := 0
		for i < len(s) && s[i] >= '0' && s[i] <= '9' {
			i++
			n++
		}
		return n
	}
	if digits() == 0 {
		return false
	}
	if i < len(s) && s[i] == '.' {
		i++
		if digits() == 0 {
			return false
		}
	}
	if i < len(s) && (s[i] == 'e' || s[i] == 'E') {
		i++
		if i < len(s) && (s[i] == '-' || s[i] == '+') {
			i++
		}
		if digits() == 0 {
			return false
		}
	}
	return i == len(s)
}

// splitUnescaped splits s at each sep not preceded by a backslash,
// leaving escapes in place (unescape them after any further split).
func splitUnescaped(s string, sep byte) []string {
	var out []string
	start := 0
	for i := 0; i < len(s); i++ {
		switch s[i] {
		case '\\':
			i++
		case sep:
			out = append(out, s[start:i])
			start = i + 1
		}
	}
	return append(out, s[start:])
}

// unescape resolves the search escapes \, \$ \| and \\.
func unescape(s string) string {
	if !strings.Contains(s, `\`) {
		return s
	}
	var b strings.Builder
	for i := 0; i < len(s); i++ {
		if s[i] == '\\' && i+1 < len(s) {
			i++
		}
		b.WriteByte(s[i])
	}
	return b.String()
}

// result parses a parameter that shapes the result.
func (p *parser) result(key string, values []string) error {
	q := &p.req.Query
	name, _, _ := strings.Cut(key, ":")
	single := func() (string, error) {
		if len(values) != 1 {
			return "", &Error{key, "give it once"}
		}
		return values[0], nil
	}
	switch name {
	case "_count":
		v, err := single()
		if err != nil {
			return err
		}
		n, err := strconv.Atoi(v)
		if err != nil || n < 0 {
			return &Error{key, fmt.Sprintf("%q is not a number of resources (0 or more)", v)}
		}
		if n == 0 { // FHIR: _count=0 asks for the total only
			q.SummaryCount, q.Total = true, TotalAccurate
		}
		q.Count = n
	case "_total":
		v, err := single()
		if err != nil {
			return err
		}
		switch v {
		case "none":
		case "estimate", "accurate":
			q.Total = TotalAccurate
		default:
			return &Error{key, fmt.Sprintf("%q is not one of none, estimate, accurate", v)}
		}
	case "_summary":
		v, err := single()
		if err != nil {
			return err
		}
		switch v {
		case "count":
			q.SummaryCount, q.Total = true, TotalAccurate
		case "text", "data", "false":
			p.req.Summary = v
		case "true":
			return &unsupported{"_summary=true is not supported: the full resources are returned"}
		default:
			return &Error{key, fmt.Sprintf("%q is not one of true, text, data, count, false", v)}
		}
	case "_elements":
		for _, v := range values {
			for _, e := range strings.Split(v, ",") {
				if !isElementName(e) {
					return &Error{key, fmt.Sprintf("%q is not an element name", e)}
				}
				p.req.Elements = append(p.req.Elements, e)
			}
		}
	case "_sort":
		v, err := single()
		if err != nil {
			return err
		}
		return p.sort(key, v)
	case "_include", "_revinclude":
		for _, v := range values {
			inc, err := p.include(key, name == "_revinclude", v)
			if err != nil {
				return err
			}
			if name == "_include" {
				q.Include = append(q.Include, inc)
			} else {
				q.RevInclude = append(q.RevInclude, inc)
			}
		}
	}
	return nil
}

// sort parses _sort=key[,-key…].
func (p *parser) sort(key, v string) error {
	for _, k := range strings.Split(v, ",") {
		desc := strings.HasPrefix(k, "-")
		code := strings.TrimPrefix(k, "-")
		sp, ok := searchparam.Lookup(p.req.Query.Type, code)
		if !ok {
			return &Error{key, fmt.Sprintf("%s has no search parameter %q to sort by", p.req.Query.Type, code)}
		}
		if sp.Expression == "" || sp.Type == searchparam.Composite || sp.Type == searchparam.Special {
			return &Error{key, fmt.Sprintf("cannot sort by %q (%s)", code, sp.Type)}
		}
		p.req.Query.Sort = append(p.req.Query.Sort, SortKey{Param: code, Type: ParamType(sp.Type), Descending: desc})
	}
	return nil
}

// include parses Type:param[:target], or "*" for every reference of the
// searched type. Without :iterate, _include starts from the searched
// type; _revinclude names the type holding the reference, which must be
// able to point to the searched type.
func (p *parser) include(key string, rev bool, v string) (Include, error) {
	typ := p.req.Query.Type
	inc := Include{Iterate: strings.HasSuffix(key, ":iterate") || strings.HasSuffix(key, ":recurse")}
	if v == "*" {
		inc.Type, inc.Param = typ, "*"
		return inc, nil
	}
	parts := strings.Split(v, ":")
	if len(parts) < 2 || len(parts) > 3 {
		return Include{}, &Error{key, fmt.Sprintf("%q: write Type:parameter[:targetType]", v)}
	}
	inc.Type, inc.Param = parts[0], parts[1]
	if len(parts) == 3 {
		inc.Target = parts[2]
	}
	if !searchparam.IsResourceType(inc.Type) {
		return Include{}, &Error{key, fmt.Sprintf("%q is not a FHIR R4 resource type", inc.Type)}
	}
	if !rev && !inc.Iterate && inc.Type != typ {
		return Include{}, &Error{key, fmt.Sprintf("%q starts from %s, not from the searched %s (add :iterate to follow it from included resources)", v, inc.Type, typ)}
	}
	var targets []string
	if inc.Param != "*" {
		sp, ok := searchparam.Lookup(inc.Type, inc.Param)
		if !ok || sp.Type != searchparam.Reference {
			return Include{}, &Error{key, fmt.Sprintf("%s has no reference parameter %q", inc.Type, inc.Param)}
		}
		targets = sp.Targets
	}
	if inc.Target != "" && !searchparam.IsResourceType(inc.Target) {
		return Include{}, &Error{key, fmt.Sprintf("%q is not a FHIR R4 resource type", inc.Target)}
	}
	if targets != nil && inc.Target != "" && !slices.Contains(targets, inc.Target) {
		return Include{}, &Error{key, fmt.Sprintf("%s.%s cannot refer to a %s", inc.Type, inc.Param, inc.Target)}
	}
	if rev && !inc.Iterate && targets != nil && !slices.Contains(targets, typ) {
		return Include{}, &Error{key, fmt.Sprintf("%s.%s cannot refer to the searched %s", inc.Type, inc.Param, typ)}
	}
	return inc, nil
}

// isElementName reports whether s looks like a FHIR element name.
func isElementName(s string) bool {
	if s == "" || !(s[0] >= 'a' && s[0] <= 'z' || s[0] >= 'A' && s[0] <= 'Z') {
		return false
	}
	for i := 1; i < len(s); i++ {
		c := s[i]
		if !(c >= 'a' && c <= 'z' || c >= 'A' && c <= 'Z' || c >= '0' && c <= '9') {
			return false
		}
	}
	return true
}

// compartment sets Query.Compartment from a single-valued search on the
// patient parameter, when that parameter selects the same element as the
// first parameter of the type's patient compartment: the element the
// store's patient key comes from (searchparam.PatientRefs). Then every
// match is filed under that patient and the store can search that
// patient's shard alone; the clause stays, so the matches are the same.
// (Coverage, whose patient is its beneficiary but whose key is its policy
// holder, keeps a plain search.)
func (p *parser) compartment() {
	q := &p.req.Query
	first := searchparam.CompartmentParams(q.Type)
	sp, ok := searchparam.Lookup(q.Type, "patient")
	if len(first) == 0 || !ok || element(sp.Expression) != element(first[0].Expression) {
		return
	}
	for _, c := range q.Where {
		if c.Param != "patient" || c.Type != Reference || c.Chain != nil || len(c.Values) != 1 ||
			(c.Modifier != "" && c.Modifier != "Patient") {
			continue
		}
		if v := c.Values[0]; v.RefType == "Patient" && v.RefID != "" {
			q.Compartment = v.RefID
			return
		}
	}
}

// element is the path of a reference parameter's expression without its
// restriction to Patient targets.
func element(expr string) string {
	return strings.TrimSuffix(expr, ".where(resolve() is Patient)")
}
