package rest

import (
	"context"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/store"
)

// search runs a search on one type (GET [type]?…, POST [type]/_search)
// and returns one page as a searchset Bundle.
func (h *Handler) search(ctx context.Context, rd reader, c *call) (*result, error) {
	params, cursor := searchParams(c.query)
	req, err := search.Parse(c.typ, params, search.Options{Base: c.base})
	if err != nil {
		return nil, searchError(err, "")
	}
	if c.strict && len(req.Ignored) > 0 {
		e := &Error{Status: http.StatusBadRequest}
		for _, ig := range req.Ignored {
			e.Issues = append(e.Issues, Issue{Severity: "error", Code: "not-supported", Diagnostics: fmt.Sprintf("search parameter %s: %s (Prefer: handling=strict)", ig.Param, ig.Reason)})
		}
		return nil, e
	}
	q := &req.Query
	h.pageSize(q)
	p := &pager{base: c.base, path: c.typ, applied: req.Applied, cursor: cursor}
	if err := p.start(q); err != nil {
		return nil, err
	}
	page, err := h.find(ctx, rd, q)
	if err != nil {
		return nil, err
	}
	body, err := p.searchset(q, page, shape{summary: req.Summary, elements: req.Elements}, req.Ignored)
	if err != nil {
		return nil, err
	}
	return &result{status: http.StatusOK, body: body}, nil
}

// searchParams splits the parameters of a search request: the search
// itself, and the page cursor. _format and _pretty, already honoured, are
// left out.
func searchParams(query url.Values) (url.Values, string) {
	params := url.Values{}
	for k, v := range query {
		switch k {
		case "_format", "_pretty", cursorParam:
		default:
			params[k] = v
		}
	}
	return params, query.Get(cursorParam)
}

// pageSize applies the default and maximum page sizes.
func (h *Handler) pageSize(q *search.Query) {
	if q.Count == 0 && !q.SummaryCount {
		q.Count = h.opt.DefaultCount
	}
	q.Count = min(q.Count, h.opt.MaxCount)
}

// searchError answers a *search.Error with 400; other errors are internal.
func searchError(err error, prefix string) error {
	if e, ok := err.(*search.Error); ok {
		return NewError(http.StatusBadRequest, "invalid", "%s%s", prefix, e.Error())
	}
	return err
}

// pager builds the searchset Bundle of one page and its links.
type pager struct {
	base    string     // absolute base URL
	path    string     // searched path below the base: "Observation", "Patient/1/$everything"
	applied url.Values // the search parameters applied
	cursor  string     // the _cursor of this page, "" for the first
}

// key identifies the search a cursor belongs to.
func (p *pager) key() string { return p.path + "?" + p.applied.Encode() }

// start positions q at the page's cursor.
func (p *pager) start(q *search.Query) error {
	if p.cursor == "" {
		return nil
	}
	after, err := decodeCursor(p.cursor, p.key())
	q.After = after
	return err
}

// link is the URL of the search with an optional cursor.
func (p *pager) link(cursor string) string {
	params := p.applied
	if cursor != "" {
		params = url.Values{cursorParam: {cursor}}
		for k, v := range p.applied {
			params[k] = v
		}
	}
	u := p.base + "/" + p.path
	if len(params) > 0 {
		u += "?" + params.Encode()
	}
	return u
}

// searchset encodes one page of results: its matches, what _include and
// _revinclude brought in, and a warning listing the parameters ignored.
// The total is given when the store counted it, or when this first page
// holds every match.
func (p *pager) searchset(q *search.Query, page *store.Page, s shape, ignored []search.Ignored) ([]byte, error) {
	b := newBundle("searchset")
	switch {
	case page.Total >= 0:
		b.Total = &page.Total
	case q.After == nil && page.Next == nil:
		n := len(page.Resources)
		b.Total = &n
	}
	b.Link = []bundleLink{{Relation: "self", URL: p.link(p.cursor)}}
	if page.Next != nil {
		b.Link = append(b.Link, bundleLink{Relation: "next", URL: p.link(encodeCursor(page.Next, p.key()))})
	}
	add := func(rs []store.Resource, mode string) error {
		for i := range rs {
			content, err := s.apply(rs[i].Content)
			if err != nil {
				return err
			}
			b.Entry = append(b.Entry, entry{FullURL: fullURL(p.base, &rs[i]), Resource: content, Search: &entrySearch{Mode: mode}})
		}
		return nil
	}
	if err := add(page.Resources, "match"); err != nil {
		return nil, err
	}
	if err := add(page.Included, "include"); err != nil {
		return nil, err
	}
	if len(ignored) > 0 {
		var issues []Issue
		for _, ig := range ignored {
			issues = append(issues, Issue{Severity: "warning", Code: "not-supported", Diagnostics: fmt.Sprintf("search parameter %s was ignored: %s", ig.Param, ig.Reason)})
		}
		b.Entry = append(b.Entry, entry{Resource: json.RawMessage(mustJSON(newOutcome(issues))), Search: &entrySearch{Mode: "outcome"}})
	}
	return b.encode(), nil
}
