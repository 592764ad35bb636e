package rest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
	"github.com/carnet-sante/carnet/internal/fhir/validate"
	"github.com/carnet-sante/carnet/internal/store"
)

// instant is the FHIR instant layout of meta.lastUpdated.
const instant = "2006-01-02T15:04:05.000Z07:00"

// conflictAttempts is how many times a write transaction is run when
// concurrent writers keep changing what it read.
const conflictAttempts = 5

// update runs fn in one store transaction. When the store reports a
// version conflict (another request wrote the same resource since fn
// read it), fn runs again on the new state, so that a plain update does
// not fail because of a concurrent one; fn must therefore not depend on
// what a previous run changed. After conflictAttempts conflicts, 409.
func (h *Handler) update(ctx context.Context, fn func(tx store.ResourceTx) error) error {
	for range conflictAttempts {
		err := h.store.Update(ctx, fn)
		if !errors.Is(err, store.ErrConflict) {
			return err
		}
	}
	return NewError(http.StatusConflict, "conflict", "the resource kept being changed by concurrent requests (%d attempts): retry", conflictAttempts)
}

// result is the successful outcome of an interaction.
type result struct {
	status int
	// resource is the resource concerned: its version gives ETag and
	// Last-Modified, and its content is the body of reads and of writes
	// (unless Prefer says otherwise).
	resource *store.Resource
	// body is the body when it is not the resource: a Bundle, a
	// CapabilityStatement, a resource filtered by _elements.
	body []byte
	// write marks a create, update, patch or delete: Prefer: return
	// applies, and a Location header is sent when it created.
	write bool
	// message says what a write did, for Prefer: return=OperationOutcome.
	message string
}

// checkBody checks that the body of c is a valid resource of the type its
// URL names.
func checkBody(c *call) error {
	if rt, ok := c.resource["resourceType"].(string); ok && rt != c.typ {
		return NewError(http.StatusBadRequest, "invalid", "the body is a %s but the URL is for %s", rt, c.typ)
	}
	if c.validated {
		return nil
	}
	if issues := validate.Resource(c.resource); issues != nil {
		return invalid(issues)
	}
	return nil
}

// stage prepares version `version` of typ/id from a valid resource: sets
// its id and meta, rewrites its references, extracts its search values
// and patient key, and encodes it.
func stage(typ, id string, res map[string]any, version, expect int64, at time.Time, rw *rewriter) (store.Write, error) {
	res["id"] = id
	meta, _ := res["meta"].(map[string]any)
	if meta == nil {
		meta = map[string]any{}
		res["meta"] = meta
	}
	meta["versionId"] = strconv.FormatInt(version, 10)
	meta["lastUpdated"] = at.Format(instant)
	if err := rw.rewrite(typ, res); err != nil {
		return store.Write{}, err
	}
	index, err := searchparam.Extract(typ, res)
	if err != nil {
		return store.Write{}, NewError(http.StatusBadRequest, "value", "cannot index the %s: %v", typ, err)
	}
	var key string
	if refs := searchparam.PatientRefs(typ, res); len(refs) > 0 {
		key = refs[0]
	}
	content, err := marshalResource(res)
	if err != nil {
		return store.Write{}, fmt.Errorf("encoding %s/%s: %w", typ, id, err)
	}
	return store.Write{
		Resource:      store.Resource{Type: typ, ID: id, PatientKey: key, Version: version, LastUpdated: at, Content: content},
		ExpectVersion: expect,
		Index:         index,
	}, nil
}

// create stores the body of c as a new resource; with If-None-Exist, it
// returns instead the one resource matching, if any.
func (h *Handler) create(ctx context.Context, tx store.ResourceTx, c *call, at time.Time) (*result, error) {
	if err := checkBody(c); err != nil {
		return nil, err
	}
	if c.ifNoneExist != "" {
		found, err := h.matchCreate(ctx, tx, c)
		if err != nil || found != nil {
			return found, err
		}
	}
	return h.createNew(ctx, tx, c, newID(), at)
}

// matchCreate resolves the If-None-Exist of a conditional create: the
// result for the one resource matching, nil if none does, 412 if several.
func (h *Handler) matchCreate(ctx context.Context, rd reader, c *call) (*result, error) {
	params, err := url.ParseQuery(c.ifNoneExist[strings.IndexByte(c.ifNoneExist, '?')+1:])
	if err != nil {
		return nil, NewError(http.StatusBadRequest, "invalid", "malformed If-None-Exist %q: %v", c.ifNoneExist, err)
	}
	found, err := h.matches(ctx, rd, c.typ, params, c.base, "If-None-Exist")
	switch {
	case err != nil:
		return nil, err
	case len(found) > 1:
		return nil, NewError(http.StatusPreconditionFailed, "multiple-matches", "If-None-Exist %q matches several %s resources: make the criteria select one", c.ifNoneExist, c.typ)
	case len(found) == 1:
		return &result{status: http.StatusOK, resource: &found[0], write: true, message: "an existing " + c.typ + " matches If-None-Exist: nothing created"}, nil
	}
	return nil, nil
}

// createNew stores the checked body of c as typ/id, version 1.
func (h *Handler) createNew(ctx context.Context, tx store.ResourceTx, c *call, id string, at time.Time) (*result, error) {
	w, err := stage(c.typ, id, c.resource, 1, 0, at, h.rewriterFor(ctx, tx, c))
	if err != nil {
		return nil, err
	}
	if err := tx.Write(ctx, w); err != nil {
		return nil, err
	}
	return &result{status: http.StatusCreated, resource: &w.Resource, write: true, message: "created " + versionPath(&w.Resource)}, nil
}

// put stores the body of c as the next version of the resource its URL
// names, creating it if needed (update as create).
func (h *Handler) put(ctx context.Context, tx store.ResourceTx, c *call, at time.Time) (*result, error) {
	if err := checkBody(c); err != nil {
		return nil, err
	}
	id, err := h.putTarget(ctx, tx, c, newID())
	if err != nil {
		return nil, err
	}
	return h.putVersion(ctx, tx, c, id, at)
}

// putTarget returns the id a PUT writes: the id of its URL, or for a
// conditional update the id of the one match, the body's id or fresh
// when none matches, 412 when several do.
func (h *Handler) putTarget(ctx context.Context, rd reader, c *call, fresh string) (string, error) {
	bodyID, _ := c.resource["id"].(string)
	if c.id != "" {
		if bodyID != c.id {
			return "", NewError(http.StatusBadRequest, "invalid", "the body's id %q differs from the id %q in the URL: PUT %s/%s needs \"id\": %q in the body", bodyID, c.id, c.typ, c.id, c.id)
		}
		return c.id, nil
	}
	found, err := h.matches(ctx, rd, c.typ, c.query, c.base, "conditional update")
	switch {
	case err != nil:
		return "", err
	case len(found) > 1:
		return "", NewError(http.StatusPreconditionFailed, "multiple-matches", "the conditional update %s?%s matches several resources: make the criteria select one", c.typ, c.query.Encode())
	case len(found) == 1:
		if bodyID != "" && bodyID != found[0].ID {
			return "", NewError(http.StatusBadRequest, "invalid", "the body's id %q differs from the id %q of the %s that matches", bodyID, found[0].ID, c.typ)
		}
		return found[0].ID, nil
	case bodyID != "":
		return bodyID, nil
	}
	return fresh, nil
}

// putVersion writes the checked body of c as the next version of
// c.typ/id, honouring If-Match.
func (h *Handler) putVersion(ctx context.Context, tx store.ResourceTx, c *call, id string, at time.Time) (*result, error) {
	cur, err := tx.Read(ctx, c.typ, id)
	exists := err == nil
	if err != nil && !errors.Is(err, store.ErrNotFound) {
		return nil, err
	}
	if err := checkIfMatch(c, &cur, exists); err != nil {
		return nil, err
	}
	version, expect := int64(1), int64(0)
	if exists {
		version, expect = cur.Version+1, cur.Version
	}
	w, err := stage(c.typ, id, c.resource, version, expect, at, h.rewriterFor(ctx, tx, c))
	if err != nil {
		return nil, err
	}
	if err := tx.Write(ctx, w); err != nil {
		return nil, err
	}
	if !exists || cur.Deleted {
		return &result{status: http.StatusCreated, resource: &w.Resource, write: true, message: "created " + versionPath(&w.Resource)}, nil
	}
	return &result{status: http.StatusOK, resource: &w.Resource, write: true, message: "updated " + versionPath(&w.Resource)}, nil
}

// checkIfMatch fails with 412 when c has an If-Match other than the
// current version cur (exists false: there is none).
func checkIfMatch(c *call, cur *store.Resource, exists bool) error {
	switch {
	case c.ifMatch == 0:
		return nil
	case !exists:
		return NewError(http.StatusPreconditionFailed, "conflict", "If-Match %s: %s/%s does not exist", etag(c.ifMatch), c.typ, cur.ID)
	case cur.Version != c.ifMatch:
		return NewError(http.StatusPreconditionFailed, "conflict", "If-Match %s: the current version of %s/%s is %s; read it again and reapply your change", etag(c.ifMatch), c.typ, cur.ID, etag(cur.Version))
	}
	return nil
}

// remove deletes the resource c names (logical delete: a new version
// marked deleted). Deleting what does not exist, or no longer does,
// succeeds without writing anything.
func (h *Handler) remove(ctx context.Context, tx store.ResourceTx, c *call, at time.Time) (*result, error) {
	id := c.id
	if id == "" {
		found, err := h.matches(ctx, tx, c.typ, c.query, c.base, "conditional delete")
		switch {
		case err != nil:
			return nil, err
		case len(found) > 1:
			return nil, NewError(http.StatusPreconditionFailed, "multiple-matches", "the conditional delete %s?%s matches several resources; this server deletes one at a time", c.typ, c.query.Encode())
		case len(found) == 0:
			return &result{status: http.StatusNoContent, write: true}, nil
		}
		id = found[0].ID
	}
	cur, err := tx.Read(ctx, c.typ, id)
	if errors.Is(err, store.ErrNotFound) {
		cur.ID = id
		if err := checkIfMatch(c, &cur, false); err != nil {
			return nil, err
		}
		return &result{status: http.StatusNoContent, write: true}, nil
	}
	if err != nil {
		return nil, err
	}
	if err := checkIfMatch(c, &cur, true); err != nil {
		return nil, err
	}
	if cur.Deleted {
		return &result{status: http.StatusNoContent, resource: &cur, write: true}, nil
	}
	w := store.Write{
		Resource:      store.Resource{Type: c.typ, ID: id, PatientKey: cur.PatientKey, Version: cur.Version + 1, LastUpdated: at, Deleted: true},
		ExpectVersion: cur.Version,
	}
	if err := tx.Write(ctx, w); err != nil {
		return nil, err
	}
	return &result{status: http.StatusNoContent, resource: &w.Resource, write: true}, nil
}

// matches runs the criteria of a conditional interaction (what names it
// in messages) and returns up to two matches: enough to tell none, one
// and several. Criteria the server would ignore in a search are errors
// here, since ignoring one would match resources it was meant to exclude.
func (h *Handler) matches(ctx context.Context, rd reader, typ string, params url.Values, base, what string) ([]store.Resource, error) {
	if len(params) == 0 {
		return nil, NewError(http.StatusBadRequest, "invalid", "the %s has no search criteria", what)
	}
	req, err := search.Parse(typ, params, search.Options{Base: base})
	if err != nil {
		return nil, searchError(err, what+" criteria: ")
	}
	if len(req.Ignored) > 0 {
		ig := req.Ignored[0]
		return nil, NewError(http.StatusBadRequest, "not-supported", "%s criteria: %s: %s; a conditional interaction cannot ignore a criterion", what, ig.Param, ig.Reason)
	}
	q := req.Query
	q.Count, q.SummaryCount, q.Total, q.Include, q.RevInclude, q.Sort = 2, false, search.TotalNone, nil, nil, nil
	page, err := h.find(ctx, rd, &q)
	if err != nil {
		return nil, err
	}
	return page.Resources, nil
}

// rewriterFor returns the rewriter of c's transaction, or one for c alone.
func (h *Handler) rewriterFor(ctx context.Context, rd reader, c *call) *rewriter {
	if c.rw != nil {
		return c.rw
	}
	return h.rewriter(ctx, rd, c.base, nil)
}

// newID returns a new logical id: a random UUID.
func newID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6] = b[6]&0x0f | 0x40
	b[8] = b[8]&0x3f | 0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}
