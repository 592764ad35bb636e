package rest

import (
	"context"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/carnet-sante/carnet/internal/fhir/validate"
)

// bundleEntry is one entry of a batch or transaction Bundle.
type bundleEntry struct {
	index   int
	fullURL string
	call    *call
	// err is why the entry cannot be processed (malformed request,
	// invalid resource); call is nil then.
	err error
	// original is the entry's resource as received: a transaction works
	// on a copy, so that it can run again after a version conflict.
	original map[string]any
	// fresh is the id a POST (or a conditional PUT matching nothing)
	// gives its resource, chosen once for every run of a transaction.
	fresh string
	// target is the id a PUT writes, resolved before any write, and cur
	// what it found there.
	target string
	cur    *current
	res    *result
	// prepared are the issues the Preparers reported on the entry.
	prepared []Issue
}

// bundle processes a batch or transaction Bundle POSTed to the base.
func (h *Handler) bundle(ctx context.Context, c *call) (*result, error) {
	b := c.resource
	if rt, _ := b["resourceType"].(string); rt != "Bundle" {
		return nil, NewError(http.StatusBadRequest, "invalid", "the base URL takes a batch or transaction Bundle, not a %q", rt)
	}
	typ, _ := b["type"].(string)
	if typ != "batch" && typ != "transaction" {
		return nil, NewError(http.StatusBadRequest, "invalid", "Bundle.type is %q: the base URL takes a batch or a transaction (to store a Bundle as such, POST it to %s/Bundle)", typ, BasePath)
	}
	issues := validate.Resource(b)
	byEntry := map[int][]validate.Issue{}
	for _, is := range issues {
		i, ok := entryIndex(is.Path)
		if !ok || typ == "transaction" {
			return nil, invalid(issues)
		}
		byEntry[i] = append(byEntry[i], is)
	}
	raw, _ := b["entry"].([]any)
	entries := make([]*bundleEntry, len(raw))
	for i, r := range raw {
		e := &bundleEntry{index: i}
		entries[i] = e
		if is := byEntry[i]; is != nil {
			e.err = invalid(is)
			continue
		}
		m, _ := r.(map[string]any)
		e.fullURL, _ = m["fullUrl"].(string)
		if e.call, e.err = entryCall(c, m); e.err != nil {
			e.err = prefixed(asError(e.err), fmt.Sprintf("Bundle.entry[%d].", i))
			continue
		}
		e.original = e.call.resource
	}
	if typ == "transaction" {
		return h.transaction(ctx, c, entries)
	}
	return h.batch(ctx, entries), nil
}

// entryIndex reads i from a validation path "Bundle.entry[i]…".
func entryIndex(path string) (int, bool) {
	rest, ok := strings.CutPrefix(path, "Bundle.entry[")
	if !ok {
		return 0, false
	}
	end := strings.IndexByte(rest, ']')
	if end < 0 {
		return 0, false
	}
	i, err := strconv.Atoi(rest[:end])
	return i, err == nil
}

// entryCall reads the request of a Bundle entry posted in call c. Its
// errors name the element at fault relative to the entry.
func entryCall(c *call, e map[string]any) (*call, error) {
	const at = "request"
	req, _ := e["request"].(map[string]any)
	if req == nil {
		return nil, NewError(http.StatusBadRequest, "required", "%s is missing: every entry of a batch or transaction says what to do", at)
	}
	method, _ := req["method"].(string)
	rawURL, _ := req["url"].(string)
	if rel, ok := strings.CutPrefix(rawURL, c.base+"/"); ok {
		rawURL = rel
	}
	u, err := url.Parse(rawURL)
	if err != nil || u.IsAbs() || u.Host != "" {
		return nil, NewError(http.StatusBadRequest, "invalid", "%s.url %q: give a URL relative to the base (Patient, Patient/1, Patient?identifier=…)", at, rawURL)
	}
	query, err := url.ParseQuery(u.RawQuery)
	if err != nil {
		return nil, NewError(http.StatusBadRequest, "invalid", "%s.url %q: malformed query: %v", at, rawURL, err)
	}
	path := strings.Trim(u.Path, "/")
	rt, err := parseRoute(method, path, query)
	if err != nil {
		return nil, prefixed(asError(err), at+": ")
	}
	if rt.kind == kBundle {
		return nil, NewError(http.StatusBadRequest, "not-supported", "%s: a Bundle entry cannot itself be a batch or transaction", at)
	}
	ec := &call{route: rt, method: method, path: path, query: query, base: c.base, ret: c.ret, strict: c.strict, validated: true}
	ec.ifNoneExist, _ = req["ifNoneExist"].(string)
	ifMatch, _ := req["ifMatch"].(string)
	if ec.ifMatch, err = parseETag(ifMatch); err != nil {
		return nil, err
	}
	res, _ := e["resource"].(map[string]any)
	switch rt.kind {
	case kCreate, kUpdate:
		if res == nil {
			return nil, NewError(http.StatusBadRequest, "required", "resource is missing: %s needs the resource to write", method)
		}
		ec.resource = res
	case kPatch:
		if ec.patch, err = entryPatch(rt.typ, res); err != nil {
			return nil, prefixed(asError(err), "resource: ")
		}
	}
	return ec, nil
}

// entryPatch reads the patch of a PATCH entry on a resource of type typ:
// a FHIRPath Patch Parameters resource, or a JSON Patch in a Binary of
// type application/json-patch+json, as FHIR R4 carries patches in Bundles.
func entryPatch(typ string, res map[string]any) ([]patchOp, error) {
	if rt, _ := res["resourceType"].(string); rt == "Parameters" {
		return parseFHIRPathPatch(typ, res)
	}
	if rt, _ := res["resourceType"].(string); rt != "Binary" || res["contentType"] != "application/json-patch+json" {
		return nil, NewError(http.StatusBadRequest, "not-supported", "a PATCH entry carries a FHIRPath Patch (Parameters) or a Binary with contentType application/json-patch+json")
	}
	data, _ := res["data"].(string)
	body, err := base64.StdEncoding.DecodeString(data)
	if err != nil {
		return nil, NewError(http.StatusBadRequest, "invalid", "Binary.data is not base64: %v", err)
	}
	return parsePatch(body)
}

// batch processes each entry on its own, in order: one failing does not
// stop the others, and its response says why it failed.
func (h *Handler) batch(ctx context.Context, entries []*bundleEntry) *result {
	out := newBundle("batch-response")
	for _, e := range entries {
		if e.err == nil {
			e.res, e.err = h.serve(ctx, e.call)
		}
		if e.err != nil {
			x := asError(e.err)
			if x == nil {
				x = h.internal(ctx, e.err)
			}
			out.Entry = append(out.Entry, entry{Response: &entryResponse{Status: statusLine(x.Status), Outcome: mustJSON(newOutcome(x.Issues))}})
			continue
		}
		out.Entry = append(out.Entry, responseEntry(e.call, e.res))
	}
	return &result{status: http.StatusOK, body: out.encode()}
}

// responseEntry is the entry of a batch or transaction response for the
// result of c.
func responseEntry(c *call, res *result) entry {
	e := entry{Response: &entryResponse{Status: statusLine(res.status)}}
	if r := res.resource; r != nil {
		e.FullURL = fullURL(c.base, r)
		e.Response.Etag = etag(r.Version)
		e.Response.LastModified = r.LastUpdated.UTC().Format(instant)
		if res.write && (res.status == http.StatusCreated || c.kind == kCreate) {
			e.Response.Location = versionPath(r)
		}
		if !r.Deleted && !(res.write && c.ret == "minimal") && !(res.write && c.ret == "OperationOutcome") {
			e.Resource = json.RawMessage(r.Content)
		}
	}
	if res.body != nil {
		e.Resource = res.body
	}
	if res.write && (c.ret == "OperationOutcome" && res.message != "" || len(res.issues) > 0) {
		e.Response.Outcome = writeOutcome(res)
	}
	return e
}
