package rest

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/http"
	"net/url"
	"strings"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/search"
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
	// issues are the warnings of the rules a write went through.
	issues []Issue
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
// its id and meta, rewrites its references, runs the rules of its type
// (see Rule), extracts its search values and patient key, and encodes it.
// prev is the current version (nil if none or deleted); the issues are
// the rules' warnings. When prev holds the same content (see unchanged),
// skip is set and nothing is to be written.
func (h *Handler) stage(ctx context.Context, tx store.ResourceTx, c *call, kind Interaction, id string, res map[string]any, version, expect int64, prev *store.Resource, at time.Time) (w store.Write, issues []Issue, skip bool, err error) {
	rw := h.rewriterFor(ctx, tx, c)
	if err := stamp(c.typ, id, res, version, at, rw); err != nil {
		return w, nil, false, err
	}
	req := &WriteRequest{Interaction: kind, Type: c.typ, ID: id, Resource: res, Previous: prev, At: at, rw: rw}
	if issues, err = h.applyRules(ctx, tx, req); err != nil {
		return w, nil, false, err
	}
	if prev != nil && kind != InteractionCreate {
		if skip, err = unchanged(prev, res); err != nil || skip {
			return w, issues, skip, err
		}
	}
	w, err = finish(c.typ, id, res, version, expect, at)
	return w, issues, false, err
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
	id := c.fresh
	if id == "" {
		id = newID()
	}
	return h.createNew(ctx, tx, c, id, at)
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
	w, issues, _, err := h.stage(ctx, tx, c, InteractionCreate, id, c.resource, 1, 0, nil, at)
	if err != nil {
		return nil, err
	}
	if err := tx.Write(ctx, w); err != nil {
		return nil, err
	}
	return &result{status: http.StatusCreated, resource: &w.Resource, write: true, message: "created " + versionPath(&w.Resource), issues: issues}, nil
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
	return h.putVersion(ctx, tx, c, id, nil, at)
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
// c.typ/id, honouring If-Match. cur is the current version when the
// caller read it already (a transaction reads them all before writing,
// so that its writes are flushed together), nil to read it here.
func (h *Handler) putVersion(ctx context.Context, tx store.ResourceTx, c *call, id string, cur *current, at time.Time) (*result, error) {
	if cur == nil {
		var err error
		if cur, err = readCurrent(ctx, tx, c.typ, id); err != nil {
			return nil, err
		}
	}
	if err := checkIfMatch(c, &cur.res, cur.exists); err != nil {
		return nil, err
	}
	version, expect := int64(1), int64(0)
	var prev *store.Resource
	if cur.exists {
		version, expect = cur.res.Version+1, cur.res.Version
		if !cur.res.Deleted {
			prev = &cur.res
		}
	}
	w, issues, skip, err := h.stage(ctx, tx, c, InteractionUpdate, id, c.resource, version, expect, prev, at)
	switch {
	case err != nil:
		return nil, err
	case skip:
		return &result{status: http.StatusOK, resource: prev, write: true, issues: issues,
			message: "unchanged " + versionPath(prev) + ": the content equals the current version, no version was written"}, nil
	}
	if err := tx.Write(ctx, w); err != nil {
		return nil, err
	}
	if prev == nil {
		return &result{status: http.StatusCreated, resource: &w.Resource, write: true, message: "created " + versionPath(&w.Resource), issues: issues}, nil
	}
	return &result{status: http.StatusOK, resource: &w.Resource, write: true, message: "updated " + versionPath(&w.Resource), issues: issues}, nil
}

// current is what a write found of the resource it changes: its current
// version (a deletion, possibly) when exists.
type current struct {
	res    store.Resource
	exists bool
}

// readCurrent reads the current version of typ/id, if any.
func readCurrent(ctx context.Context, rd reader, typ, id string) (*current, error) {
	r, err := rd.Read(ctx, typ, id)
	if errors.Is(err, store.ErrNotFound) {
		return &current{res: store.Resource{Type: typ, ID: id}}, nil
	}
	if err != nil {
		return nil, err
	}
	return &current{res: r, exists: true}, nil
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
