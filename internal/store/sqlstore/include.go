package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/store"
)

// readIncluded reads, in one statement, what _include and _revinclude
// bring in for the resources of a page: the resources they point to, and
// those pointing to them, one level deep (:iterate is not followed
// further). Each comes once, and not at all if it is already on the page;
// none is counted in the total.
func readIncluded(ctx context.Context, db DB, q *search.Query, page []store.Resource) ([]store.Resource, error) {
	c := newCompiler(q)
	sql, err := c.included(q, page)
	if err != nil {
		return nil, err
	}
	rs, err := queryResources(ctx, db, sql, c.args...)
	if err != nil {
		return nil, fmt.Errorf("include: %w", err)
	}
	onPage := make(map[resourceKey]bool, len(page))
	for _, r := range page {
		onPage[resourceKey{r.Type, r.ID}] = true
	}
	included := rs[:0]
	for _, r := range rs {
		if !onPage[resourceKey{r.Type, r.ID}] {
			included = append(included, r)
		}
	}
	return included, nil
}

// included returns the statement of readIncluded. The included resources
// (alias r) are subject to the query's restriction like the matches.
func (c *compiler) included(q *search.Query, page []store.Resource) (string, error) {
	var branches []string
	if len(q.Include) > 0 {
		refs := make([]string, len(page))
		for i, r := range page {
			refs[i] = "(" + c.arg(r.PatientKey) + ", " + c.arg(r.Type) + ", " + c.arg(r.ID) + ")"
		}
		branches = append(branches, sqlf(`
    SELECT t.patient_key, t.type, t.id
    FROM search_reference i
    JOIN resources t ON t.type = i.ref_type AND t.id = i.ref_id
    WHERE (i.patient_key, i.type, i.id) IN (VALUES {refs})
      AND ({which})`,
			"refs", strings.Join(refs, ", "), "which", c.follow(q.Include)))
	}
	if len(q.RevInclude) > 0 {
		targets := make([]string, len(page))
		for i, r := range page {
			targets[i] = "(" + c.arg(r.Type) + ", " + c.arg(r.ID) + ")"
		}
		branches = append(branches, sqlf(`
    SELECT i.patient_key, i.type, i.id
    FROM search_reference i
    WHERE (i.ref_type, i.ref_id) IN (VALUES {targets})
      AND ({which})`,
			"targets", strings.Join(targets, ", "), "which", c.follow(q.RevInclude)))
	}
	restrict, err := c.restriction(scope{r: "r"})
	if err != nil {
		return "", err
	}
	conds := append([]string{
		"NOT r.deleted",
		"(r.patient_key, r.type, r.id) IN (" + strings.Join(branches, "\n    UNION") + ")",
	}, restrict...)
	return selectCurrent + "\nWHERE " + strings.Join(conds, "\n  AND ") + "\nORDER BY r.type, r.id", nil
}

// follow returns the condition that a reference row (alias i) is one of
// incs: from a resource of their Type, through their Param ("*": any
// reference parameter), to their Target type if they name one.
func (c *compiler) follow(incs []search.Include) string {
	ors := make([]string, len(incs))
	for k, inc := range incs {
		cond := "i.type = " + c.arg(inc.Type)
		if inc.Param != "*" {
			cond += " AND i.param = " + c.arg(inc.Param)
		}
		if inc.Target != "" {
			cond += " AND i.ref_type = " + c.arg(inc.Target)
		}
		ors[k] = "(" + cond + ")"
	}
	return strings.Join(ors, " OR ")
}
