package sqlstore

import (
	"fmt"
	"math"
	"strconv"
	"strings"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
	"github.com/carnet-sante/carnet/internal/store"
)

// compiler builds one SQL statement of a search: its text, with $n
// placeholders, and its arguments. Search semantics follow
// http://hl7.org/fhir/R4/search.html; where the specification leaves a
// choice, the choice is documented on the function that makes it.
type compiler struct {
	args    []any
	aliases int
	// now is the reference instant of the ap prefix on dates.
	now time.Time

	restrict    *search.Restriction
	patientsIn  string // the placeholders of Restriction.Patients, once bound
	restricting bool   // compiling the restriction's own clauses

	// fixed holds the scopes (by alias) whose type and patient key an IN
	// subquery of their conditions already fixes: see matches.
	fixed map[string]bool
}

func newCompiler(q *search.Query) *compiler {
	return &compiler{now: time.Now(), restrict: q.Restrict, fixed: map[string]bool{}}
}

// arg binds a value and returns its placeholder.
func (c *compiler) arg(v any) string {
	c.args = append(c.args, v)
	return "$" + strconv.Itoa(len(c.args))
}

// alias returns a table alias not used elsewhere in the statement.
func (c *compiler) alias(prefix string) string {
	c.aliases++
	return prefix + strconv.Itoa(c.aliases)
}

// invalid reports a query the store cannot run as asked. runSearch
// prefixes the message with the searched type.
func invalid(format string, args ...any) error {
	return fmt.Errorf("%s: %w", fmt.Sprintf(format, args...), store.ErrInvalidQuery)
}

// sqlf expands the {name} markers of an SQL template with the given
// pairs: sqlf("{r}.id = {v}", "r", "r1", "v", "$3"). Templates keep the
// SQL readable where the aliases change from one use to the next.
func sqlf(tmpl string, pairs ...string) string {
	for i := 0; i < len(pairs); i += 2 {
		tmpl = strings.ReplaceAll(tmpl, "{"+pairs[i]+"}", pairs[i+1])
	}
	return tmpl
}

// scope is the resource the compiler writes conditions on: the alias of
// its row, and the placeholders of its type and patient key when the query
// fixes them ("" when it does not). The compiler repeats those inside the
// index subqueries, so that they use the indexes and, on a sharded
// database, stay on one patient's shard.
//
// The row is of the resources table, or, for the sources of _has, of
// search_reference: an index row stands for the current version of a live
// resource and has its key, but not its last_updated.
//
// check says that the rows of r come from elsewhere, few: those of one
// patient (a compartment), or those a selective clause yields (see
// anchor). The conditions on them are then correlated checks of each row,
// entering every table by its primary key (patient_key, type, id…) or, for
// _has, by the reference's target, rather than uncorrelated IN
// subqueries, which read every match of their clause in the database.
type scope struct {
	r, typ, patient string
	indexRow        bool
	check           bool
}

// matches returns the WHERE clause of the resources (alias r) a query
// matches: the page, and its total, select from it.
//
// Its plan must grow with the patient's record, not with the database's.
// A query that pins a patient's key (a compartment, or a search on the
// patient parameter that search.Parse made one) reads the patient's rows
// of the type by the primary key of resources, and checks every clause on
// each of them by the primary key of its table (see scope.check). One
// that names a patient through a reference of the patient compartment
// without pinning the key (DocumentReference?subject=Patient/X: its
// matches are not all filed under X, see anchor) is driven by that
// reference, through the reference index, and checks the other clauses in
// the same way. Any other query makes each clause an uncorrelated IN
// subquery (see indexed) and leaves the planner to choose where to start.
//
// The type and the patient key the query fixes are tested on r only when
// no IN subquery already fixes them: SQLite then drives the search by r's
// whole primary key from that subquery and reads it once, where the extra
// test makes it read it a second time, as a filter (a third slower).
// PostgreSQL infers them either way.
func (c *compiler) matches(q *search.Query) (string, error) {
	s := scope{r: "r"}
	if q.Type != "" {
		s.typ = c.arg(q.Type)
	}
	var conds []string
	first := -1
	switch {
	case q.Compartment != "":
		s.patient = c.arg(q.Compartment)
		s.check = !plainPlans
	case !plainPlans:
		first = anchor(q)
	}
	if first >= 0 {
		cond, err := c.clause(s, q.Where[first])
		if err != nil {
			return "", err
		}
		conds = append(conds, cond)
		s.check = true
	}
	for i, cl := range q.Where {
		if i == first {
			continue
		}
		cond, err := c.clause(s, cl)
		if err != nil {
			return "", err
		}
		conds = append(conds, cond)
	}
	restrict, err := c.restriction(s)
	if err != nil {
		return "", err
	}
	conds = append(conds, restrict...)
	if !c.fixed[s.r] {
		if s.patient != "" {
			conds = append([]string{"r.patient_key = " + s.patient}, conds...)
		}
		if s.typ != "" {
			conds = append([]string{"r.type = " + s.typ}, conds...)
		}
	}
	conds = append([]string{"NOT r.deleted"}, conds...)
	return "WHERE " + strings.Join(conds, "\n  AND "), nil
}

// plainPlans turns off the plans by patient of matches: every clause is
// then an uncorrelated IN subquery, as before them. Only the tests that
// compare both set it.
var plainPlans bool

// anchor returns the index in q.Where of the clause that drives a search
// which names one patient without pinning the patient key, or -1: a
// reference to one Patient/X through a parameter of the patient
// compartment of q.Type (subject, patient, performer…), which the
// reference index finds among the few resources pointing to X.
//
// Such a clause does not pin the patient key: a resource is filed under
// the first patient of its compartment parameters (searchparam.PatientRefs),
// so one that points to X through a later parameter, through a list that
// names another patient first, or through an absolute URL (which does not
// count for the compartment) lives under another key. Driving the search
// by the clause rather than by the key keeps those.
func anchor(q *search.Query) int {
	if q.Type == "" {
		return -1
	}
	for i, cl := range q.Where {
		if cl.Chain != nil || cl.Has != nil || cl.Type != search.Reference || len(cl.Values) != 1 ||
			(cl.Modifier != "" && cl.Modifier != "Patient") {
			continue
		}
		if v := cl.Values[0]; v.RefType == "Patient" && v.RefID != "" && inCompartment(q.Type, cl.Param) {
			return i
		}
	}
	return -1
}

// inCompartment reports whether the parameter code of typ selects an
// element that puts a resource in the patient compartment: one of the
// compartment's parameters for typ, or one with the same element
// (DocumentReference.patient is subject restricted to Patient targets).
func inCompartment(typ, code string) bool {
	sp, ok := searchparam.Lookup(typ, code)
	if !ok {
		return false
	}
	for _, p := range searchparam.CompartmentParams(typ) {
		if p == sp || p.Code == code || element(p.Expression) == element(sp.Expression) {
			return true
		}
	}
	return false
}

// element is the path of a reference parameter's expression without its
// restriction to Patient targets.
func element(expr string) string {
	return strings.TrimSuffix(expr, ".where(resolve() is Patient)")
}

// restriction returns the conditions of the query's Restriction on the
// resource of s. It is the one place the access decision enters the SQL,
// and the compiler calls it for every resources row a statement reads:
// the matches (page and total), a chain's targets, a _has's sources, the
// included resources.
func (c *compiler) restriction(s scope) ([]string, error) {
	r := c.restrict
	if r == nil || c.restricting {
		return nil, nil
	}
	var conds []string
	if r.Patients != nil {
		if len(r.Patients) == 0 {
			conds = append(conds, "1 = 0")
		} else {
			if c.patientsIn == "" {
				ps := make([]string, len(r.Patients))
				for i, p := range r.Patients {
					ps[i] = c.arg(p)
				}
				c.patientsIn = strings.Join(ps, ", ")
			}
			conds = append(conds, s.r+".patient_key IN ("+c.patientsIn+")")
		}
	}
	c.restricting = true
	defer func() { c.restricting = false }()
	for _, cl := range r.Where {
		if cl.Chain != nil || cl.Has != nil {
			return nil, fmt.Errorf("restriction: a clause (%s) cannot chain or use _has", cl.Param)
		}
		cond, err := c.clause(s, cl)
		if err != nil {
			return nil, fmt.Errorf("restriction: %w", err)
		}
		conds = append(conds, cond)
	}
	return conds, nil
}

// clause returns the condition of one search clause on resource s: one of
// its values (ORed) must match.
func (c *compiler) clause(s scope, cl search.Clause) (string, error) {
	switch {
	case cl.Has != nil:
		return c.has(s, cl.Has)
	case cl.Chain != nil:
		return c.chain(s, cl)
	case cl.Param == "_id":
		return c.ids(s, cl)
	case cl.Param == "_lastUpdated":
		return c.lastUpdated(s, cl)
	}
	t := tableOf(string(cl.Type))
	if t == nil {
		return "", invalid("%s: cannot search a parameter of type %q", cl.Param, cl.Type)
	}
	x := c.alias("x")
	if cl.Modifier == "missing" {
		missing, err := missingValue(cl)
		if err != nil {
			return "", err
		}
		return c.indexed(s, t, x, cl.Param, "", missing), nil
	}
	if len(cl.Values) == 0 {
		return "", invalid("%s: no value to search", cl.Param)
	}
	ors := make([]string, len(cl.Values))
	for i, v := range cl.Values {
		cond, err := c.value(t, x, cl, v)
		if err != nil {
			return "", fmt.Errorf("%s: %w", cl.Param, err)
		}
		ors[i] = cond
	}
	match := strings.Join(ors, " OR ")
	if len(ors) > 1 {
		match = "(" + match + ")"
	}
	return c.indexed(s, t, x, cl.Param, match, cl.Modifier == "not"), nil
}

// indexed returns the condition that resource s has a row of param in
// index table t matching cond (written on alias x; "" for any row), or,
// negated, that it has none.
//
// A positive condition is an uncorrelated IN subquery: SQLite then drives
// the search from the index, where it would run an EXISTS once per
// candidate resource (measured on 100,000 resources: 0.25 ms instead of
// 25 ms for a selective token); PostgreSQL plans IN and EXISTS alike, as a
// semi-join. A negative one is NOT EXISTS, which PostgreSQL plans as an
// anti-join (NOT IN it cannot). On the rows of a check scope, a positive
// condition is an EXISTS too: the candidates are few, and the IN subquery
// would read every value of the clause in the database (every current
// DocumentReference for status=current), patient key or not, since the
// value indexes do not start with it.
func (c *compiler) indexed(s scope, t *indexTable, x, param, cond string, negate bool) string {
	where := []string{x + ".param = " + c.arg(param)}
	if negate || s.check {
		key := sameKey(x, s.r)
		if s.check {
			key = byKey(x, s.r)
			if cond != "" {
				cond = opaque(cond)
			}
		}
		if cond != "" {
			where = append(where, cond)
		}
		exists := sqlf(`EXISTS (SELECT 1 FROM {t} {x} WHERE {key} AND {where})`,
			"t", t.name, "x", x, "key", key, "where", strings.Join(where, " AND "))
		if negate {
			return "NOT " + exists
		}
		return exists
	}
	if cond != "" {
		where = append(where, cond)
	}
	if s.patient != "" {
		where = append([]string{x + ".patient_key = " + s.patient}, where...)
	}
	if s.typ != "" {
		where = append([]string{x + ".type = " + s.typ}, where...)
	}
	c.fixed[s.r] = true
	return sqlf(`({r}.patient_key, {r}.type, {r}.id) IN (SELECT {x}.patient_key, {x}.type, {x}.id FROM {t} {x} WHERE {where})`,
		"t", t.name, "x", x, "r", s.r, "where", strings.Join(where, " AND "))
}

// sameKey is the condition that rows x and r are of the same resource:
// the first three columns of every table's primary key.
func sameKey(x, r string) string {
	return sqlf("{x}.patient_key = {r}.patient_key AND {x}.type = {r}.type AND {x}.id = {r}.id", "x", x, "r", r)
}

// byKey is sameKey for a row x of an index table, checked against a row
// r of a check scope. With opaque, it makes SQLite look the rows of r up
// by the primary key of x, (patient_key, type, id, param, ord), never by
// the value index of the clause: without statistics, SQLite estimates
// that the value index, which starts with (type, param) too and holds
// the value, finds fewer rows, and narrower, it wins with as many
// equalities or one less (for status=current it then walks every current
// DocumentReference of the database to find r's). ord >= 0 always holds
// (ord is a position); as a range on the last column of the primary key
// it makes SQLite's estimate for that key four times smaller.
// PostgreSQL, with its statistics, needs no such hints.
func byKey(x, r string) string {
	return sameKey(x, r) + " AND " + x + ".ord >= 0"
}

// opaque returns cond in a form that no index serves, for byKey.
func opaque(cond string) string {
	return "CASE WHEN " + cond + " THEN 1 ELSE 0 END = 1"
}

// missingValue reads the boolean of :missing.
func missingValue(cl search.Clause) (bool, error) {
	if len(cl.Values) != 1 {
		return false, invalid("%s:missing takes one value, true or false", cl.Param)
	}
	return cl.Values[0].Missing, nil
}

// value returns the condition that an index row (alias x) of table t
// matches one value of a clause.
func (c *compiler) value(t *indexTable, x string, cl search.Clause, v search.Value) (string, error) {
	col := func(name string) string { return x + "." + name }
	switch t {
	case stringTable:
		switch cl.Modifier {
		case "":
			return c.startsWith(col("norm"), searchparam.NormalizeString(v.Text)), nil
		case "exact": // norm too, so that the index serves it
			return fmt.Sprintf("(%s = %s AND %s = %s)",
				col("norm"), c.arg(searchparam.NormalizeString(v.Text)), col("text"), c.arg(v.Text)), nil
		case "contains":
			return fmt.Sprintf(`%s LIKE %s ESCAPE '\'`, col("norm"), c.arg("%"+escapeLike(searchparam.NormalizeString(v.Text))+"%")), nil
		}
	case tokenTable:
		switch cl.Modifier {
		case "", "not":
			return c.token(col("system"), col("code"), v)
		case "text":
			return c.startsWith(col("norm"), searchparam.NormalizeString(v.Text)), nil
		}
	case dateTable:
		if cl.Modifier == "" {
			return c.date(col("low"), col("high"), v)
		}
	case referenceTable:
		return c.reference(x, cl.Modifier, v)
	case numberTable:
		if cl.Modifier == "" {
			return c.number(col("value"), v)
		}
	case quantityTable:
		if cl.Modifier == "" {
			return c.quantity(x, v)
		}
	case uriTable:
		if cl.Modifier == "" {
			return col("uri") + " = " + c.arg(v.Text), nil
		}
	}
	return "", invalid("the modifier :%s does not apply to %s parameters", cl.Modifier, cl.Type)
}

// startsWith matches the strings of col that start with prefix, as a
// range, so that an index on col serves it on both engines (text columns
// compare bytewise: BINARY in SQLite, COLLATE "C" in PostgreSQL). The
// range ends at prefix followed by U+10FFFF, the last code point: only a
// string continuing with that noncharacter would be missed.
func (c *compiler) startsWith(col, prefix string) string {
	return fmt.Sprintf("(%s >= %s AND %s < %s)", col, c.arg(prefix), col, c.arg(prefix+"\U0010FFFF"))
}

// escapeLike escapes the wildcards of LIKE (with ESCAPE '\').
func escapeLike(s string) string {
	return strings.NewReplacer(`\`, `\\`, `%`, `\%`, `_`, `\_`).Replace(s)
}

// token matches system|code, code (any system), |code (no system) or
// system| (any code of the system).
func (c *compiler) token(system, code string, v search.Value) (string, error) {
	var conds []string
	if v.HasSystem {
		conds = append(conds, system+" = "+c.arg(v.System))
	}
	if v.Code != "" {
		conds = append(conds, code+" = "+c.arg(v.Code))
	}
	if len(conds) == 0 {
		return "", invalid("empty token: give a code, system|code, |code or system|")
	}
	return "(" + strings.Join(conds, " AND ") + ")", nil
}

// date compares a stored range [low, high) with the search range
// [v.Low, v.High), as R4 defines each prefix:
//
//	eq  the search range contains the stored one    ne  it does not
//	lt  the stored range starts before the search range
//	gt  the stored range ends after the search range
//	le  lt or eq        ge  gt or eq
//	sa  the stored range starts at or after the search range's end
//	eb  the stored range ends at or before the search range's start
//	ap  the ranges overlap, once the search range is widened on each side
//	    by a tenth of the time between it and now (R4's suggestion)
func (c *compiler) date(low, high string, v search.Value) (string, error) {
	if v.Low.IsZero() || v.High.IsZero() {
		return "", invalid("a date value without its range")
	}
	sl, sh := lowMicros(v.Low), highMicros(v.High)
	switch v.Prefix {
	case search.Eq, "":
		return fmt.Sprintf("(%s >= %s AND %s <= %s)", low, c.arg(sl), high, c.arg(sh)), nil
	case search.Ne:
		return fmt.Sprintf("NOT (%s >= %s AND %s <= %s)", low, c.arg(sl), high, c.arg(sh)), nil
	case search.Lt:
		return fmt.Sprintf("%s < %s", low, c.arg(sl)), nil
	case search.Le: // lt, or eq: low < sl OR (low >= sl AND high <= sh)
		return fmt.Sprintf("(%s < %s OR %s <= %s)", low, c.arg(sl), high, c.arg(sh)), nil
	case search.Gt:
		return fmt.Sprintf("%s > %s", high, c.arg(sh)), nil
	case search.Ge: // gt, or eq: high > sh OR (high <= sh AND low >= sl)
		return fmt.Sprintf("(%s > %s OR %s >= %s)", high, c.arg(sh), low, c.arg(sl)), nil
	case search.Sa:
		return fmt.Sprintf("%s >= %s", low, c.arg(sh)), nil
	case search.Eb:
		return fmt.Sprintf("%s <= %s", high, c.arg(sl)), nil
	case search.Ap:
		margin := c.now.Sub(v.Low).Abs().Microseconds() / 10
		return fmt.Sprintf("(%s < %s AND %s > %s)", low, c.arg(sh+margin), high, c.arg(sl-margin)), nil
	}
	return "", invalid("unknown prefix %q", v.Prefix)
}

// number compares a stored number with a search value. eq, ne and ap take
// the value's precision into account: eq matches the numbers within half a
// unit of its last digit ("100" is [99.5, 100.5), "100.00" is
// [99.995, 100.005), "1e2" is [50, 150)); ap matches within 10% of the
// value, or within its precision when that is wider. The other prefixes
// compare with the value exactly; sa and eb, which mean "starts after" and
// "ends before", are gt and lt for numbers.
func (c *compiler) number(col string, v search.Value) (string, error) {
	n, lo, hi, err := numberRange(v.Number)
	if err != nil {
		return "", err
	}
	switch v.Prefix {
	case search.Eq, "":
		return fmt.Sprintf("(%s >= %s AND %s < %s)", col, c.arg(lo), col, c.arg(hi)), nil
	case search.Ne:
		return fmt.Sprintf("NOT (%s >= %s AND %s < %s)", col, c.arg(lo), col, c.arg(hi)), nil
	case search.Lt, search.Eb:
		return fmt.Sprintf("%s < %s", col, c.arg(n)), nil
	case search.Le:
		return fmt.Sprintf("%s <= %s", col, c.arg(n)), nil
	case search.Gt, search.Sa:
		return fmt.Sprintf("%s > %s", col, c.arg(n)), nil
	case search.Ge:
		return fmt.Sprintf("%s >= %s", col, c.arg(n)), nil
	case search.Ap:
		margin := math.Abs(n) / 10
		return fmt.Sprintf("(%s >= %s AND %s <= %s)", col, c.arg(min(lo, n-margin)), col, c.arg(max(hi, n+margin))), nil
	}
	return "", invalid("unknown prefix %q", v.Prefix)
}

// numberRange parses a number as written in a search and returns it with
// the range its precision implies: half a unit of its last digit on
// either side. (R4's own example gives [95, 105) for 1e2, which does not
// follow its rule; the rule wins here.)
func numberRange(s string) (n, lo, hi float64, err error) {
	n, err = strconv.ParseFloat(s, 64)
	if err != nil {
		return 0, 0, 0, invalid("%q is not a number", s)
	}
	mantissa, exp := s, 0
	if i := strings.IndexAny(s, "eE"); i >= 0 {
		mantissa = s[:i]
		if exp, err = strconv.Atoi(s[i+1:]); err != nil {
			return 0, 0, 0, invalid("%q is not a number", s)
		}
	}
	decimals := 0
	if i := strings.IndexByte(mantissa, '.'); i >= 0 {
		decimals = len(mantissa) - i - 1
	}
	half := math.Pow10(exp-decimals) / 2
	return n, n - half, n + half, nil
}

// quantity matches a value, as number does, and its unit: system and code
// when a system is given; without one, the code or the human-readable
// unit, in any system. Units are not converted (no UCUM arithmetic).
func (c *compiler) quantity(x string, v search.Value) (string, error) {
	cond, err := c.number(x+".value", v)
	if err != nil {
		return "", err
	}
	switch {
	case v.System != "":
		cond += " AND " + x + ".system = " + c.arg(v.System)
		if v.Code != "" {
			cond += " AND " + x + ".code = " + c.arg(v.Code)
		}
	case v.Code != "":
		code := c.arg(v.Code)
		cond += sqlf(" AND ({x}.code = {c} OR {x}.unit = {c})", "x", x, "c", code)
	}
	return "(" + cond + ")", nil
}

// reference matches a reference: by target (Type/id, or an id of any
// type; the :Type modifier fixes the type), by URL as written (absolute
// URLs, urn:), or, with :identifier, by Reference.identifier as a token.
func (c *compiler) reference(x, modifier string, v search.Value) (string, error) {
	if modifier == "identifier" {
		return c.token(x+".id_system", x+".id_code", v)
	}
	typ := v.RefType
	if modifier != "" {
		if !searchparam.IsResourceType(modifier) {
			return "", invalid("the modifier :%s does not apply to reference parameters", modifier)
		}
		if typ != "" && typ != modifier {
			return "1 = 0", nil
		}
		typ = modifier
	}
	var conds []string
	switch {
	case v.RefID != "":
		conds = append(conds, x+".ref_id = "+c.arg(v.RefID))
	case v.URL != "":
		// ref_id, for the index: the extraction set it to the URL's last
		// segment if it read the URL as …/Type/id, else left it empty.
		ids := "''"
		if i := strings.LastIndexByte(v.URL, '/'); i >= 0 && !strings.HasPrefix(v.URL, "urn:") {
			ids += ", " + c.arg(v.URL[i+1:])
		}
		conds = append(conds, x+".ref_id IN ("+ids+")", x+".url = "+c.arg(v.URL))
	default:
		return "", invalid("empty reference")
	}
	if typ != "" {
		conds = append(conds, x+".ref_type = "+c.arg(typ))
	}
	return "(" + strings.Join(conds, " AND ") + ")", nil
}

// ids matches _id on the resources table.
func (c *compiler) ids(s scope, cl search.Clause) (string, error) {
	switch cl.Modifier {
	case "missing": // every resource has an id
		missing, err := missingValue(cl)
		if err != nil || !missing {
			return "1 = 1", err
		}
		return "1 = 0", nil
	case "", "not":
	default:
		return "", invalid("the modifier :%s does not apply to _id", cl.Modifier)
	}
	if len(cl.Values) == 0 {
		return "", invalid("_id: no value to search")
	}
	ids := make([]string, len(cl.Values))
	for i, v := range cl.Values {
		if v.Code == "" {
			return "", invalid("_id: empty id")
		}
		ids[i] = c.arg(v.Code)
	}
	cond := s.r + ".id IN (" + strings.Join(ids, ", ") + ")"
	if cl.Modifier == "not" {
		cond = "NOT " + cond
	}
	return cond, nil
}

// lastUpdated matches _lastUpdated on the resources table: an instant, the
// range of one microsecond.
func (c *compiler) lastUpdated(s scope, cl search.Clause) (string, error) {
	if s.indexRow {
		u := c.alias("u")
		cond, err := c.lastUpdated(scope{r: u}, cl)
		if s.check {
			return sqlf(`EXISTS (SELECT 1 FROM resources {u} WHERE {key} AND {cond})`,
				"u", u, "key", sameKey(u, s.r), "cond", cond), err
		}
		return sqlf(`({r}.patient_key, {r}.type, {r}.id) IN (SELECT {u}.patient_key, {u}.type, {u}.id FROM resources {u} WHERE {cond})`,
			"r", s.r, "u", u, "cond", cond), err
	}
	switch cl.Modifier {
	case "missing":
		missing, err := missingValue(cl)
		if err != nil || !missing {
			return "1 = 1", err
		}
		return "1 = 0", nil
	case "":
	default:
		return "", invalid("the modifier :%s does not apply to _lastUpdated", cl.Modifier)
	}
	if len(cl.Values) == 0 {
		return "", invalid("_lastUpdated: no value to search")
	}
	ors := make([]string, len(cl.Values))
	for i, v := range cl.Values {
		cond, err := c.date(s.r+".last_updated", "("+s.r+".last_updated + 1)", v)
		if err != nil {
			return "", fmt.Errorf("_lastUpdated: %w", err)
		}
		ors[i] = cond
	}
	return "(" + strings.Join(ors, " OR ") + ")", nil
}

// chain matches the resources whose reference param points to a resource
// of cl.Chain.Type that matches cl.Chain.Clause (subject:Patient.name=…).
// The target is found by type and id: it may live under another patient
// key. In a check scope, the chain is followed from each row of s, and
// the target checked in the same way.
func (c *compiler) chain(s scope, cl search.Clause) (string, error) {
	ch := cl.Chain
	if ch.Type == "" {
		return "", invalid("%s: a chain must name the target type", cl.Param)
	}
	x, t := c.alias("x"), c.alias("t")
	target := scope{r: t, typ: c.arg(ch.Type), check: s.check}
	inner, err := c.clause(target, ch.Clause)
	if err != nil {
		return "", fmt.Errorf("%s.%w", cl.Param, err)
	}
	restrict, err := c.restriction(target)
	if err != nil {
		return "", err
	}
	var where []string
	switch {
	case s.check:
		where = append(where, byKey(x, s.r))
	default:
		if s.typ != "" {
			where = append(where, x+".type = "+s.typ)
		}
		if s.patient != "" {
			where = append(where, x+".patient_key = "+s.patient)
		}
	}
	where = append(where, x+".param = "+c.arg(cl.Param), x+".ref_type = "+target.typ, "NOT "+t+".deleted", inner)
	where = append(where, restrict...)
	if s.check {
		// CROSS JOIN keeps SQLite from reading every resource of the
		// target type first, as its estimates for type = $n invite.
		where = append(where, sqlf("{t}.type = {x}.ref_type AND {t}.id = {x}.ref_id", "t", t, "x", x))
		return sqlf(`EXISTS (
    SELECT 1
    FROM search_reference {x}
    CROSS JOIN resources {t}
    WHERE {where})`,
			"x", x, "t", t, "where", strings.Join(where, "\n      AND ")), nil
	}
	c.fixed[s.r] = true
	return sqlf(`({r}.patient_key, {r}.type, {r}.id) IN (
    SELECT {x}.patient_key, {x}.type, {x}.id
    FROM search_reference {x}
    JOIN resources {t} ON {t}.type = {x}.ref_type AND {t}.id = {x}.ref_id
    WHERE {where})`,
		"r", s.r, "x", x, "t", t, "where", strings.Join(where, "\n      AND ")), nil
}

// has matches the resources that a resource of h.Type points to through
// its reference parameter h.Ref, when that resource matches h.Clause
// (_has:Observation:patient:code=…). The conditions on the referring
// resource apply to its reference row, which stands for it. In a check
// scope, the references to each row of s are found by the reference
// index, and their sources checked in the same way.
func (c *compiler) has(s scope, h *search.Has) (string, error) {
	x := c.alias("x")
	source := scope{r: x, typ: c.arg(h.Type), indexRow: true, check: s.check}
	inner, err := c.clause(source, h.Clause)
	if err != nil {
		return "", fmt.Errorf("_has:%s:%s:%w", h.Type, h.Ref, err)
	}
	restrict, err := c.restriction(source)
	if err != nil {
		return "", err
	}
	var where []string
	if s.check { // by the reference index, which starts with ref_id
		where = append(where, sqlf("{x}.ref_id = {r}.id AND {x}.ref_type = {r}.type", "x", x, "r", s.r))
	}
	where = append(where, x+".type = "+source.typ, x+".param = "+c.arg(h.Ref))
	if s.typ != "" && !s.check {
		where = append(where, x+".ref_type = "+s.typ)
	}
	where = append(where, inner)
	where = append(where, restrict...)
	if s.check {
		return sqlf(`EXISTS (
    SELECT 1
    FROM search_reference {x}
    WHERE {where})`,
			"x", x, "where", strings.Join(where, "\n      AND ")), nil
	}
	return sqlf(`({r}.type, {r}.id) IN (
    SELECT {x}.ref_type, {x}.ref_id
    FROM search_reference {x}
    WHERE {where})`,
		"r", s.r, "x", x, "where", strings.Join(where, "\n      AND ")), nil
}
