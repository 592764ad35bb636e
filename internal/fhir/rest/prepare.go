package rest

import (
	"context"
	"fmt"
)

// Preparer is a business rule on a whole request that writes — a
// transaction Bundle, or a single create, update, patch or delete — where
// a Rule sees one resource at a time. Document sharing (IHE MHD) needs
// it: a Provide Document Bundle (ITI-65) is checked as a whole (a
// DocumentReference's hash against the bytes of the Binary entry it
// points to), and the documents' bytes are stored before the store
// transaction starts, so that this slow work does not hold the store's
// write lock.
//
// Prepare runs once per request, before the store transaction, and not
// again when a version conflict makes the transaction run again. It may:
//   - change an entry's Resource (what it leaves there is stored, without
//     being validated again: preparers are trusted code), the id a create
//     gives its resource (ID), or make a create conditional (IfNoneExist);
//   - add issues of severity warning or information to an entry's
//     response (Issues);
//   - refuse the request by returning an *Error (any other error is an
//     internal error);
//   - return a context carrying what the Rules of the same request need
//     to know: rules are called with it.
type Preparer interface {
	Prepare(ctx context.Context, r *PrepareRequest) (context.Context, error)
}

// PrepareRequest is a request that writes, as a Preparer sees it.
type PrepareRequest struct {
	// Base is the absolute base URL of the API: references that start
	// with it point to this server.
	Base string
	// Bundle is set for a transaction Bundle, whose entries are in
	// Entries in the Bundle's order; a single write has one entry.
	Bundle  bool
	Entries []*PrepareEntry
}

// PrepareEntry is one interaction of a PrepareRequest.
type PrepareEntry struct {
	// Index is the entry's position in the Bundle (0 for a single write).
	Index int
	// FullURL is the entry's fullUrl, "" if none.
	FullURL string
	// Method is the HTTP method: POST (create), PUT, PATCH, DELETE, GET.
	Method string
	// Type is the resource type the interaction is on.
	Type string
	// ID is, for a create, the id the new resource will get (the
	// Preparer may choose another); for an update, patch or delete, the
	// id the URL names, "" for a conditional one.
	ID string
	// Resource is the body of a create or update, a valid resource,
	// decoded (numbers as json.Number); nil for other interactions.
	Resource map[string]any
	// IfNoneExist is the condition of a create (the query part of
	// If-None-Exist).
	IfNoneExist string
	// Issues are added to the outcome of the entry's response.
	Issues []Issue
}

// prepare runs the preparers on a transaction's entries and copies back
// what they changed. Reads and entries in error are not shown.
func (h *Handler) prepare(ctx context.Context, c *call, entries []*bundleEntry) (context.Context, error) {
	if len(h.opt.Preparers) == 0 {
		return ctx, nil
	}
	r := &PrepareRequest{Base: c.base, Bundle: true}
	views := map[*PrepareEntry]*bundleEntry{}
	for _, e := range entries {
		if e.call == nil || !isWrite(e.call.kind) {
			continue
		}
		pe := prepareEntry(e.call, e.index, e.fullURL, e.original, e.fresh)
		views[pe] = e
		r.Entries = append(r.Entries, pe)
	}
	ctx, err := h.runPreparers(ctx, r)
	if err != nil {
		return ctx, err
	}
	for pe, e := range views {
		if e.call.kind == kCreate {
			e.fresh = pe.ID
			e.call.ifNoneExist = pe.IfNoneExist
		}
		if e.original != nil {
			e.original = pe.Resource
		}
		e.prepared = pe.Issues
	}
	return ctx, nil
}

// prepareWrite runs the preparers on a single write, after checking its
// body (a Preparer sees valid resources only). It returns the issues for
// the response.
func (h *Handler) prepareWrite(ctx context.Context, c *call) (context.Context, []Issue, error) {
	if len(h.opt.Preparers) == 0 {
		return ctx, nil, nil
	}
	if c.kind == kCreate || c.kind == kUpdate {
		if err := checkBody(c); err != nil {
			return ctx, nil, err
		}
		c.validated = true
	}
	fresh := ""
	if c.kind == kCreate {
		fresh = newID()
	}
	pe := prepareEntry(c, 0, "", c.resource, fresh)
	ctx, err := h.runPreparers(ctx, &PrepareRequest{Base: c.base, Entries: []*PrepareEntry{pe}})
	if err != nil {
		return ctx, nil, err
	}
	c.resource, c.ifNoneExist, c.fresh = pe.Resource, pe.IfNoneExist, pe.ID
	return ctx, pe.Issues, nil
}

func prepareEntry(c *call, index int, fullURL string, res map[string]any, fresh string) *PrepareEntry {
	pe := &PrepareEntry{Index: index, FullURL: fullURL, Method: c.method, Type: c.typ, ID: c.id, Resource: res, IfNoneExist: c.ifNoneExist}
	if c.kind == kCreate {
		pe.ID = fresh
	}
	return pe
}

func (h *Handler) runPreparers(ctx context.Context, r *PrepareRequest) (context.Context, error) {
	for _, p := range h.opt.Preparers {
		var err error
		if ctx, err = p.Prepare(ctx, r); err != nil {
			return ctx, err
		}
	}
	for _, pe := range r.Entries {
		if pe.ID != "" {
			if err := checkID(pe.ID); err != nil {
				return ctx, fmt.Errorf("a preparer chose an invalid id for a %s: %v", pe.Type, err)
			}
		}
	}
	return ctx, nil
}

// isWrite reports whether an interaction writes.
func isWrite(k kind) bool {
	return k == kCreate || k == kUpdate || k == kPatch || k == kDelete
}
