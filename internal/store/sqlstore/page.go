package sqlstore

import (
	"context"
	"fmt"
	"strconv"
	"strings"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/store"
)

// Page sizes: DefaultCount when the query's Count is 0, at most MaxCount.
const (
	DefaultCount = 20
	MaxCount     = 1000
)

// runSearch runs a search with at most three statements: the total (when
// asked), the page, and what the page includes (when asked).
func runSearch(ctx context.Context, db DB, q *search.Query) (*store.Page, error) {
	fail := func(err error) (*store.Page, error) {
		return nil, fmt.Errorf("store: search %s: %w", q.Type, err)
	}
	limit := q.Count
	if limit <= 0 {
		limit = DefaultCount
	}
	limit = min(limit, MaxCount)

	// Compile both statements first, so that an invalid query runs nothing.
	var count *compiler
	var countSQL string
	if q.Total == search.TotalAccurate || q.SummaryCount {
		count = newCompiler(q)
		where, err := count.matches(q)
		if err != nil {
			return fail(err)
		}
		countSQL = "SELECT count(*) FROM resources r\n" + where
	}
	var pc *compiler
	var pageSQL string
	var keys []sortKey
	if !q.SummaryCount {
		var err error
		pc = newCompiler(q)
		if pageSQL, keys, err = pc.page(q, limit); err != nil {
			return fail(err)
		}
	}

	page := &store.Page{Total: -1}
	if count != nil {
		n, err := queryCount(ctx, db, countSQL, count.args)
		if err != nil {
			return fail(err)
		}
		page.Total = n
	}
	if pc == nil {
		return page, nil
	}
	next, err := readPage(ctx, db, pageSQL, pc.args, keys, limit, page)
	if err != nil {
		return fail(err)
	}
	page.Next = next
	if len(page.Resources) > 0 && len(q.Include)+len(q.RevInclude) > 0 {
		if page.Included, err = readIncluded(ctx, db, q, page.Resources); err != nil {
			return fail(err)
		}
	}
	return page, nil
}

func queryCount(ctx context.Context, db DB, sql string, args []any) (int, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return 0, fmt.Errorf("count: %w", err)
	}
	defer rows.Close()
	var n int64
	if rows.Next() {
		if err := rows.Scan(&n); err != nil {
			return 0, fmt.Errorf("count: %w", err)
		}
	}
	return int(n), rows.Err()
}

// sortKey is one key of a page's order, a column of the matches.
type sortKey struct {
	col  string
	desc bool
	kind Kind
	// nullable: the resource may have no value, and then comes last.
	nullable bool
}

// page returns the statement of one page: the matches, in order, after the
// cursor, limit+1 of them (the last one only tells that there is a next
// page). The order is the query's sort keys, then type and id, so that it
// is total and a cursor says exactly where a page ends.
//
// Sorting by a parameter uses its smallest value going up and its largest
// going down (for dates: the earliest start, the latest end); resources
// without a value come last either way.
//
// The matches are computed with their sort values (m), the page taken
// from them (p), and only then joined to the content of its resources.
func (c *compiler) page(q *search.Query, limit int) (string, []sortKey, error) {
	where, err := c.matches(q)
	if err != nil {
		return "", nil, err
	}
	var sortCols strings.Builder
	var keys []sortKey
	for i, k := range q.Sort {
		name := "s" + strconv.Itoa(i)
		var expr string
		key := sortKey{col: name, desc: k.Descending}
		switch k.Param {
		case "_id":
			expr, key.kind = "r.id", Text
		case "_lastUpdated":
			expr, key.kind = "r.last_updated", Int
		default:
			t := tableOf(string(k.Type))
			if t == nil {
				return "", nil, invalid("cannot sort by %s, a parameter of type %q", k.Param, k.Type)
			}
			col, agg := t.sortAsc, "min"
			if k.Descending {
				col, agg = t.sortDesc, "max"
			}
			key.kind, key.nullable = t.kind(col), true
			x := c.alias("x")
			expr = sqlf(`(SELECT {agg}({x}.{col}) FROM {t} {x} WHERE {x}.patient_key = r.patient_key AND {x}.type = r.type AND {x}.id = r.id AND {x}.param = {p}`,
				"agg", agg, "x", x, "col", col, "t", t.name, "p", c.arg(k.Param))
			if key.kind == Text { // tokens without a code, references without a URL
				expr += " AND " + x + "." + col + " <> ''"
			}
			expr += ")"
		}
		fmt.Fprintf(&sortCols, ", %s AS %s", expr, name)
		keys = append(keys, key)
	}
	keys = append(keys, sortKey{col: "type", kind: Text}, sortKey{col: "id", kind: Text})

	after := ""
	if q.After != nil {
		cond, err := c.after("m", keys, q.After)
		if err != nil {
			return "", nil, err
		}
		after = "WHERE " + cond
	}
	var outCols strings.Builder
	for _, k := range keys[:len(keys)-2] {
		outCols.WriteString(", p." + k.col)
	}
	sql := sqlf(`
SELECT p.patient_key, p.type, p.id, p.version, p.last_updated, p.deleted, v.content{outCols}
FROM (
  SELECT m.* FROM (
    SELECT r.patient_key, r.type, r.id, r.version, r.last_updated, r.deleted{sortCols}
    FROM resources r
    {where}
  ) m
  {after}
  ORDER BY {orderM}
  LIMIT {limit}
) p
JOIN resource_versions v
  ON v.patient_key = p.patient_key AND v.type = p.type AND v.id = p.id AND v.version = p.version
ORDER BY {orderP}`,
		"outCols", outCols.String(), "sortCols", sortCols.String(), "where", where, "after", after,
		"orderM", orderBy("m", keys), "limit", c.arg(int64(limit+1)), "orderP", orderBy("p", keys))
	return sql, keys, nil
}

// kind returns the kind of one of the table's columns.
func (t *indexTable) kind(col string) Kind {
	for _, c := range t.cols {
		if c.Name == col {
			return c.Kind
		}
	}
	panic("sqlstore: " + t.name + " has no column " + col)
}

func orderBy(alias string, keys []sortKey) string {
	terms := make([]string, len(keys))
	for i, k := range keys {
		terms[i] = alias + "." + k.col
		if k.desc {
			terms[i] += " DESC"
		}
		if k.nullable {
			terms[i] += " NULLS LAST"
		}
	}
	return strings.Join(terms, ", ")
}

// after returns the condition that a row of the matches (alias m) comes
// after the cursor in the order of keys: it is beyond the cursor on some
// key and equal to it on every key before.
func (c *compiler) after(m string, keys []sortKey, cur *search.Cursor) (string, error) {
	if len(cur.SortValues) != len(keys)-2 || cur.Type == "" || cur.ID == "" {
		return "", invalid("the paging cursor does not fit this search's sort")
	}
	values := append(append([]string{}, cur.SortValues...), cur.Type, cur.ID)
	var ors, equal []string
	for i, k := range keys {
		col := m + "." + k.col
		if values[i] == "" && k.nullable { // a missing value: only missing values follow it
			equal = append(equal, col+" IS NULL")
			continue
		}
		v, err := parseSortValue(k.kind, values[i])
		if err != nil {
			return "", err
		}
		arg := c.arg(v)
		op := " > "
		if k.desc {
			op = " < "
		}
		beyond := col + op + arg
		if k.nullable {
			beyond = "(" + beyond + " OR " + col + " IS NULL)"
		}
		ors = append(ors, strings.Join(append(equal, beyond), " AND "))
		equal = append(equal, col+" = "+arg)
	}
	return "(" + strings.Join(ors, "\n    OR ") + ")", nil
}

// formatSortValue encodes a sort value for a cursor: "" for no value.
func formatSortValue(v any) string {
	switch v := v.(type) {
	case nil:
		return ""
	case string:
		return v
	case []byte:
		return string(v)
	case int64:
		return strconv.FormatInt(v, 10)
	case float64:
		return strconv.FormatFloat(v, 'g', -1, 64)
	}
	return fmt.Sprint(v)
}

// parseSortValue decodes a sort value of a cursor.
func parseSortValue(k Kind, s string) (any, error) {
	var v any
	var err error
	switch k {
	case Int:
		v, err = strconv.ParseInt(s, 10, 64)
	case Float:
		v, err = strconv.ParseFloat(s, 64)
	default:
		v = s
	}
	if err != nil {
		return nil, invalid("the paging cursor holds %q where a number belongs", s)
	}
	return v, nil
}

// readPage reads a page into page.Resources and returns the cursor of the
// next page, nil if this one is the last.
func readPage(ctx context.Context, db DB, sql string, args []any, keys []sortKey, limit int, page *store.Page) (*search.Cursor, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	values := make([]any, len(keys)-2)
	dest := make([]any, len(values))
	for i := range values {
		dest[i] = &values[i]
	}
	var next *search.Cursor
	more := false
	for rows.Next() {
		if len(page.Resources) == limit { // one more row: there is a next page
			more = true
			break
		}
		var r store.Resource
		if err := scanResource(rows, &r, dest...); err != nil {
			return nil, err
		}
		page.Resources = append(page.Resources, r)
		if len(page.Resources) == limit {
			next = &search.Cursor{SortValues: make([]string, len(values)), Type: r.Type, ID: r.ID}
			for i, v := range values {
				next.SortValues[i] = formatSortValue(v)
			}
		}
	}
	if err := rows.Err(); err != nil {
		return nil, err
	}
	if !more {
		return nil, nil
	}
	return next, nil
}
