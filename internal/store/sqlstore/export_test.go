package sqlstore

import "github.com/carnet-sante/carnet/internal/fhir/search"

// PageSQL returns the statement of the first page of q, as runSearch
// compiles it, and its arguments.
func PageSQL(q *search.Query) (string, []any, error) {
	c := newCompiler(q)
	limit := q.Count
	if limit <= 0 {
		limit = DefaultCount
	}
	sql, _, err := c.page(q, min(limit, MaxCount))
	return sql, c.args, err
}

// SetPlainPlans turns the plans by patient off (plain) or on, until the
// test ends. The tests that call it must not run in parallel.
func SetPlainPlans(t interface{ Cleanup(func()) }, plain bool) {
	was := plainPlans
	plainPlans = plain
	t.Cleanup(func() { plainPlans = was })
}
