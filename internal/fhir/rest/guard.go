package rest

import (
	"context"
	"errors"
	"net/http"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/store"
)

// Guard is where the access decision plugs in (DESIGN.md §3): every read
// this package makes on behalf of a client goes through readOne, allow or
// find below, which ask it. The request's identity travels in the context.
// A refusal is answered with its status when it is an *Error, with 403
// Forbidden otherwise. Writes themselves are not guarded yet; the searches
// of conditional interactions and the read of the version a patch applies
// to are.
type Guard interface {
	// Query is called with every query before it runs: searches, their
	// _include and paging, counts, $everything, and the matching of
	// conditional interactions and references. It sets q.Restrict, so that
	// what the caller may not see is filtered inside the store and never
	// shows in a total, an include, a chain or _has; or it refuses.
	Query(ctx context.Context, q *search.Query) error
	// Resource is called with every resource read by id (read, vread,
	// history, the patient of $everything) before it is returned.
	Resource(ctx context.Context, r *store.Resource) error
}

// allowAll is the Guard of a Handler without one.
type allowAll struct{}

func (allowAll) Query(context.Context, *search.Query) error      { return nil }
func (allowAll) Resource(context.Context, *store.Resource) error { return nil }

// reader is what reads need of the store: the store itself, or the write
// transaction of a Bundle (whose reads see its own writes).
type reader interface {
	Read(ctx context.Context, typ, id string) (store.Resource, error)
	Search(ctx context.Context, q *search.Query) (*store.Page, error)
}

// refused turns a Guard's error into the answer.
func refused(err error) error {
	if e := asError(err); e != nil {
		return e
	}
	return NewError(http.StatusForbidden, "forbidden", "%v", err)
}

// readOne returns the current version of typ/id: 404 if unknown, 410 if
// deleted, or the Guard's refusal.
func (h *Handler) readOne(ctx context.Context, rd reader, typ, id string) (*store.Resource, error) {
	r, err := rd.Read(ctx, typ, id)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NewError(http.StatusNotFound, "not-found", "%s/%s is not known", typ, id)
	}
	if err != nil {
		return nil, err
	}
	if err := h.allow(ctx, &r); err != nil {
		return nil, err
	}
	if r.Deleted {
		return nil, NewError(http.StatusGone, "deleted", "%s/%s was deleted (version %d)", typ, id, r.Version)
	}
	return &r, nil
}

// allow asks the Guard about a resource read by id.
func (h *Handler) allow(ctx context.Context, r *store.Resource) error {
	if err := h.guard.Resource(ctx, r); err != nil {
		return refused(err)
	}
	return nil
}

// find runs a query once the Guard has narrowed it.
func (h *Handler) find(ctx context.Context, rd reader, q *search.Query) (*store.Page, error) {
	if err := h.guard.Query(ctx, q); err != nil {
		return nil, refused(err)
	}
	page, err := rd.Search(ctx, q)
	if errors.Is(err, store.ErrInvalidQuery) {
		return nil, NewError(http.StatusBadRequest, "invalid", "%v", err)
	}
	return page, err
}
