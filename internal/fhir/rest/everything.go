package rest

import (
	"context"
	"fmt"
	"net/http"
	"net/url"
	"slices"
	"strconv"
	"strings"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
)

// everything serves Patient/[id]/$everything: the patient's compartment
// (the Patient and every resource that refers to it through a compartment
// parameter), one page at a time with next links, so that a record of
// thousands of resources is read in bounded steps. It takes _count and
// _since (resources changed since that instant).
func (h *Handler) everything(ctx context.Context, c *call) (*result, error) {
	if _, err := h.readOne(ctx, h.store, "Patient", c.id); err != nil {
		return nil, err
	}
	params, cursor := searchParams(c.query)
	q := &search.Query{Compartment: c.id}
	applied := url.Values{}
	var ignored []search.Ignored
	for k, vs := range params {
		v := vs[0]
		switch k {
		case "_count":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 || len(vs) > 1 {
				return nil, NewError(http.StatusBadRequest, "invalid", "_count=%s: give one number of resources per page, 1 or more", v)
			}
			q.Count = n
		case "_since":
			low, high, err := searchparam.ParseDate(v)
			if err != nil || len(vs) > 1 {
				return nil, NewError(http.StatusBadRequest, "invalid", "_since=%s: give one instant, e.g. 2024-05-01T00:00:00Z (a '+' is written %%2B in a URL)", v)
			}
			q.Where = append(q.Where, search.Clause{Param: "_lastUpdated", Type: search.Date,
				Values: []search.Value{{Prefix: search.Ge, Low: low, High: high}}})
		default:
			ignored = append(ignored, search.Ignored{Param: k, Reason: "$everything takes only _count and _since"})
			continue
		}
		applied[k] = vs
	}
	slices.SortFunc(ignored, func(a, b search.Ignored) int { return strings.Compare(a.Param, b.Param) })
	if c.strict && len(ignored) > 0 {
		return nil, NewError(http.StatusBadRequest, "not-supported", "parameter %s: %s (Prefer: handling=strict)", ignored[0].Param, ignored[0].Reason)
	}
	h.pageSize(q)
	p := &pager{base: c.base, path: fmt.Sprintf("Patient/%s/$everything", c.id), applied: applied, cursor: cursor}
	if err := p.start(q); err != nil {
		return nil, err
	}
	page, err := h.find(ctx, h.store, q)
	if err != nil {
		return nil, err
	}
	body, err := p.searchset(q, page, shape{}, ignored)
	if err != nil {
		return nil, err
	}
	return &result{status: http.StatusOK, body: body}, nil
}
