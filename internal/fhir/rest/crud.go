package rest

import (
	"context"
	"errors"
	"net/http"
	"time"

	"github.com/carnet-sante/carnet/internal/store"
)

// serve runs one interaction outside any Bundle transaction: a request to
// the API, or an entry of a batch. Each write runs in its own store
// transaction.
func (h *Handler) serve(ctx context.Context, c *call) (*result, error) {
	switch c.kind {
	case kMetadata:
		return h.metadata(c)
	case kBundle:
		return h.bundle(ctx, c)
	case kRead:
		return h.read(ctx, h.store, c)
	case kVread:
		return h.vread(ctx, c)
	case kHistory, kHistoryType:
		return h.history(ctx, c)
	case kSearch:
		return h.search(ctx, h.store, c)
	case kEverything:
		return h.everything(ctx, c)
	}
	ctx, issues, err := h.prepareWrite(ctx, c)
	if err != nil {
		return nil, err
	}
	res, err := h.write(ctx, func(tx store.ResourceTx, at time.Time) (*result, error) {
		switch c.kind {
		case kCreate:
			return h.create(ctx, tx, c, at)
		case kUpdate:
			return h.put(ctx, tx, c, at)
		case kPatch:
			return h.patch(ctx, tx, c, at)
		}
		return h.remove(ctx, tx, c, at)
	})
	if res != nil {
		res.issues = append(res.issues, issues...)
	}
	return res, err
}

// write runs one write interaction in its own transaction (run again on a
// version conflict, see update).
func (h *Handler) write(ctx context.Context, fn func(store.ResourceTx, time.Time) (*result, error)) (*result, error) {
	var res *result
	err := h.update(ctx, func(tx store.ResourceTx) error {
		var err error
		res, err = fn(tx, now())
		return err
	})
	return res, err
}

// read returns the current version of a resource.
func (h *Handler) read(ctx context.Context, rd reader, c *call) (*result, error) {
	s, err := parseShape(c.typ, c.query)
	if err != nil {
		return nil, err
	}
	r, err := h.readOne(ctx, rd, c.typ, c.id)
	if err != nil {
		return nil, err
	}
	return shaped(r, s)
}

// vread returns one version of a resource.
func (h *Handler) vread(ctx context.Context, c *call) (*result, error) {
	s, err := parseShape(c.typ, c.query)
	if err != nil {
		return nil, err
	}
	r, err := h.store.ReadVersion(ctx, c.typ, c.id, c.version)
	if errors.Is(err, store.ErrNotFound) {
		return nil, NewError(http.StatusNotFound, "not-found", "%s/%s has no version %d", c.typ, c.id, c.version)
	}
	if err != nil {
		return nil, err
	}
	if err := h.allow(ctx, &r); err != nil {
		return nil, err
	}
	if r.Deleted {
		return nil, NewError(http.StatusGone, "deleted", "version %d of %s/%s is its deletion", c.version, c.typ, c.id)
	}
	return shaped(&r, s)
}

// shaped is the result of a read, its body filtered by _elements or
// _summary when they were given.
func shaped(r *store.Resource, s shape) (*result, error) {
	res := &result{status: http.StatusOK, resource: r}
	if !s.full() {
		body, err := s.apply(r.Content)
		if err != nil {
			return nil, err
		}
		res.body = body
	}
	return res, nil
}
