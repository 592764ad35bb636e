package rest

import (
	"context"
	"fmt"
	"net/http"
	"slices"
	"time"

	"github.com/carnet-sante/carnet/internal/store"
)

// transaction processes a transaction Bundle: every entry in one store
// transaction, all or nothing, in the order the specification sets
// (DELETE, POST, PUT and PATCH, then GET), with the fullUrls of new
// resources (urn:uuid:…) replaced by their server ids in every reference.
// The response lists the entries in the order of the request.
func (h *Handler) transaction(ctx context.Context, c *call, entries []*bundleEntry) (*result, error) {
	written, fullURLs := map[string]int{}, map[string]int{}
	for _, e := range entries {
		if e.err != nil {
			return nil, e.err
		}
		if j, ok := fullURLs[e.fullURL]; ok && e.fullURL != "" {
			return nil, NewError(http.StatusBadRequest, "invalid", "Bundle.entry[%d] and Bundle.entry[%d] have the same fullUrl %q: each entry needs its own", j, e.index, e.fullURL)
		}
		fullURLs[e.fullURL] = e.index
		switch e.call.kind {
		case kCreate:
			e.fresh = newID()
		case kUpdate:
			e.fresh = newID()
			fallthrough
		case kPatch, kDelete:
			if e.call.id == "" {
				continue
			}
			key := e.call.typ + "/" + e.call.id
			if j, ok := written[key]; ok {
				return nil, NewError(http.StatusBadRequest, "invalid", "Bundle.entry[%d] and Bundle.entry[%d] both change %s: a transaction changes a resource once", j, e.index, key)
			}
			written[key] = e.index
		}
	}
	ctx, err := h.prepare(ctx, c, entries)
	if err != nil {
		return nil, err
	}
	err = h.update(ctx, func(tx store.ResourceTx) error {
		return h.runTransaction(ctx, tx, c, entries, now())
	})
	if err != nil {
		return nil, err
	}
	out := newBundle("transaction-response")
	for _, e := range entries {
		e.res.issues = append(e.res.issues, e.prepared...)
		out.Entry = append(out.Entry, responseEntry(e.call, e.res))
	}
	return &result{status: http.StatusOK, body: out.encode()}, nil
}

// runTransaction is one run of a transaction inside tx.
func (h *Handler) runTransaction(ctx context.Context, tx store.ResourceTx, c *call, entries []*bundleEntry, at time.Time) error {
	ids := map[string]string{}
	rw := h.rewriter(ctx, tx, c.base, ids)
	for _, e := range entries {
		e.res, e.target, e.cur = nil, "", nil
		e.call.rw = rw
		if e.original != nil {
			e.call.resource = CloneJSON(e.original).(map[string]any)
		}
	}
	each := func(kinds []kind, fn func(e *bundleEntry) error) error {
		for _, e := range entries {
			if !slices.Contains(kinds, e.call.kind) {
				continue
			}
			if err := fn(e); err != nil {
				if x := asError(err); x != nil {
					return prefixed(x, fmt.Sprintf("Bundle.entry[%d] (%s): ", e.index, e.call.label()))
				}
				return err
			}
		}
		return nil
	}
	var err error
	steps := []struct {
		kinds []kind
		fn    func(e *bundleEntry) error
	}{
		{[]kind{kDelete}, func(e *bundleEntry) error {
			e.res, err = h.remove(ctx, tx, e.call, at)
			return err
		}},
		// Decide the id of every resource written before writing any,
		// so that each can refer to the others.
		{[]kind{kCreate}, func(e *bundleEntry) error {
			if err := checkBody(e.call); err != nil {
				return err
			}
			e.target = e.fresh
			if e.call.ifNoneExist != "" {
				if e.res, err = h.matchCreate(ctx, tx, e.call); err != nil {
					return err
				}
				if e.res != nil {
					e.target = e.res.resource.ID
				}
			}
			if e.fullURL != "" {
				ids[e.fullURL] = e.call.typ + "/" + e.target
			}
			return nil
		}},
		{[]kind{kUpdate}, func(e *bundleEntry) error {
			if err := checkBody(e.call); err != nil {
				return err
			}
			if e.target, err = h.putTarget(ctx, tx, e.call, e.fresh); err != nil {
				return err
			}
			// Read now, before any write is queued, so that the writes
			// below are flushed together rather than one per read.
			if e.cur, err = readCurrent(ctx, tx, e.call.typ, e.target); err != nil {
				return err
			}
			if e.fullURL != "" {
				ids[e.fullURL] = e.call.typ + "/" + e.target
			}
			return nil
		}},
		{[]kind{kCreate}, func(e *bundleEntry) error {
			if e.res == nil { // not matched by If-None-Exist
				e.res, err = h.createNew(ctx, tx, e.call, e.target, at)
			}
			return err
		}},
		{[]kind{kUpdate, kPatch}, func(e *bundleEntry) error {
			if e.call.kind == kPatch {
				e.res, err = h.patch(ctx, tx, e.call, at)
			} else {
				e.res, err = h.putVersion(ctx, tx, e.call, e.target, e.cur, at)
			}
			return err
		}},
		{[]kind{kRead, kSearch, kVread, kHistory, kHistoryType, kEverything, kMetadata}, func(e *bundleEntry) error {
			switch e.call.kind {
			case kRead:
				e.res, err = h.read(ctx, tx, e.call)
			case kSearch:
				e.res, err = h.search(ctx, tx, e.call)
			default: // reads the store has no transactional form of
				e.res, err = h.serve(ctx, e.call)
			}
			return err
		}},
	}
	for _, s := range steps {
		if err := each(s.kinds, s.fn); err != nil {
			return err
		}
	}
	return nil
}
