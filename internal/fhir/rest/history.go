package rest

import (
	"context"
	"encoding/json"
	"net/http"
	"net/url"
	"strconv"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
)

// history returns the versions of a resource or of a whole type, newest
// first, as a history Bundle (_count, _since).
func (h *Handler) history(ctx context.Context, c *call) (*result, error) {
	count := h.opt.DefaultCount
	var since time.Time
	applied := url.Values{}
	for k, vs := range c.query {
		v := vs[0]
		switch k {
		case "_count":
			n, err := strconv.Atoi(v)
			if err != nil || n < 1 {
				return nil, NewError(http.StatusBadRequest, "invalid", "_count=%s: give a number of versions, 1 or more", v)
			}
			count = min(n, h.opt.MaxCount)
		case "_since":
			t, _, err := searchparam.ParseDate(v)
			if err != nil {
				return nil, NewError(http.StatusBadRequest, "invalid", "_since=%s: give an instant, e.g. 2024-05-01T00:00:00Z (a '+' is written %%2B in a URL)", v)
			}
			since = t
		case "_format", "_pretty":
			continue
		default:
			if c.strict {
				return nil, NewError(http.StatusBadRequest, "not-supported", "the history parameter %s is not supported (only _count and _since are)", k)
			}
			continue
		}
		applied[k] = vs
	}
	if c.id != "" {
		if _, err := h.readOne(ctx, h.store, c.typ, c.id); err != nil {
			if e := asError(err); e == nil || e.Status != http.StatusGone {
				return nil, err // unknown, or not for this caller
			}
		}
	}
	versions, err := h.store.History(ctx, c.typ, c.id, since, count)
	if err != nil {
		return nil, err
	}
	b := newBundle("history")
	self := c.base + "/" + c.path
	if len(applied) > 0 {
		self += "?" + applied.Encode()
	}
	b.Link = []bundleLink{{Relation: "self", URL: self}}
	for i := range versions {
		v := &versions[i]
		if h.allow(ctx, v) != nil {
			continue // not for this caller: left out, like a search filters it
		}
		e := entry{
			FullURL:  fullURL(c.base, v),
			Request:  &entryRequest{Method: http.MethodPut, URL: v.Type + "/" + v.ID},
			Response: &entryResponse{Status: statusLine(http.StatusOK), Etag: etag(v.Version), LastModified: v.LastUpdated.UTC().Format(instant)},
		}
		switch {
		case v.Deleted:
			e.Request.Method, e.Response.Status = http.MethodDelete, statusLine(http.StatusNoContent)
		case v.Version == 1:
			e.Request = &entryRequest{Method: http.MethodPost, URL: v.Type}
			e.Response.Status = statusLine(http.StatusCreated)
		}
		if !v.Deleted {
			e.Resource = json.RawMessage(v.Content)
		}
		b.Entry = append(b.Entry, e)
	}
	return &result{status: http.StatusOK, body: b.encode()}, nil
}
