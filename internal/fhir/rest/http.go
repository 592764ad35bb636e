package rest

import (
	"bytes"
	"encoding/json"
	"errors"
	"io"
	"mime"
	"net/http"
	"net/url"
	"strconv"
	"strings"
)

// contentType is the media type of every response.
const contentType = "application/fhir+json; charset=utf-8"

// newCall reads an HTTP request into a call: route, headers, and the body
// decoded according to the interaction.
func (h *Handler) newCall(w http.ResponseWriter, r *http.Request) (*call, error) {
	path, ok := strings.CutPrefix(r.URL.Path, BasePath)
	if !ok || path != "" && path[0] != '/' {
		return nil, NewError(http.StatusNotFound, "not-found", "the FHIR API is at %s", BasePath)
	}
	path = strings.Trim(path, "/")
	query, err := url.ParseQuery(r.URL.RawQuery)
	if err != nil {
		return nil, NewError(http.StatusBadRequest, "invalid", "malformed query string: %v", err)
	}
	if err := checkFormat(query.Get("_format"), r.Header.Get("Accept")); err != nil {
		return nil, err
	}
	rt, err := parseRoute(r.Method, path, query)
	if err != nil {
		return nil, err
	}
	c := &call{route: rt, method: r.Method, path: path, query: query, base: h.base(r), ifNoneExist: r.Header.Get("If-None-Exist")}
	if c.ifMatch, err = parseETag(r.Header.Get("If-Match")); err != nil {
		return nil, err
	}
	c.ret, c.strict = parsePrefer(r.Header.Values("Prefer"))

	switch {
	case rt.kind == kCreate || rt.kind == kUpdate || rt.kind == kBundle:
		if err := checkContentType(r.Header.Get("Content-Type"), "application/fhir+json", "application/json", "application/json+fhir"); err != nil {
			return nil, err
		}
		body, err := h.readBody(w, r)
		if err != nil {
			return nil, err
		}
		if c.resource, err = decodeResource(body); err != nil {
			return nil, err
		}
	case rt.kind == kPatch:
		ct := r.Header.Get("Content-Type")
		if err := checkContentType(ct, "application/json-patch+json", "application/fhir+json"); err != nil {
			return nil, err
		}
		body, err := h.readBody(w, r)
		if err != nil {
			return nil, err
		}
		if mt, _, _ := mime.ParseMediaType(ct); mt == "application/fhir+json" {
			c.patch, err = fhirPathPatchBody(rt.typ, body)
		} else {
			c.patch, err = parsePatch(body)
		}
		if err != nil {
			return nil, err
		}
	case rt.kind == kSearch && r.Method == http.MethodPost:
		if err := checkContentType(r.Header.Get("Content-Type"), "application/x-www-form-urlencoded"); err != nil {
			return nil, err
		}
		body, err := h.readBody(w, r)
		if err != nil {
			return nil, err
		}
		form, err := url.ParseQuery(string(body))
		if err != nil {
			return nil, NewError(http.StatusBadRequest, "invalid", "malformed form body of %s/_search: %v", rt.typ, err)
		}
		for k, vs := range form {
			c.query[k] = append(c.query[k], vs...)
		}
	}
	return c, nil
}

// readBody reads the whole body, at most MaxBody bytes.
func (h *Handler) readBody(w http.ResponseWriter, r *http.Request) ([]byte, error) {
	tooLarge := NewError(http.StatusRequestEntityTooLarge, "too-costly", "the request body exceeds the limit of %d bytes", h.opt.MaxBody)
	if r.ContentLength > h.opt.MaxBody {
		return nil, tooLarge
	}
	b, err := io.ReadAll(http.MaxBytesReader(w, r.Body, h.opt.MaxBody))
	var mbe *http.MaxBytesError
	if errors.As(err, &mbe) {
		return nil, tooLarge
	}
	if err != nil {
		return nil, NewError(http.StatusBadRequest, "invalid", "reading the request body: %v", err)
	}
	return b, nil
}

// decodeResource decodes a JSON object, numbers kept as json.Number. A
// syntax error is reported with its line and column.
func decodeResource(b []byte) (map[string]any, error) {
	dec := json.NewDecoder(bytes.NewReader(b))
	dec.UseNumber()
	var v any
	if err := dec.Decode(&v); err != nil {
		return nil, jsonError(b, err)
	}
	if _, err := dec.Token(); err != io.EOF {
		return nil, NewError(http.StatusBadRequest, "structure", "invalid JSON at %s: unexpected data after the resource", position(b, dec.InputOffset()))
	}
	m, ok := v.(map[string]any)
	if !ok {
		return nil, NewError(http.StatusBadRequest, "structure", "the body must be a JSON object (a FHIR resource with its resourceType)")
	}
	return m, nil
}

// jsonError describes a JSON decoding error, with its position in b.
func jsonError(b []byte, err error) *Error {
	var se *json.SyntaxError
	switch {
	case len(bytes.TrimSpace(b)) == 0:
		return NewError(http.StatusBadRequest, "structure", "the request body is empty: send a FHIR resource in JSON")
	case errors.As(err, &se):
		return NewError(http.StatusBadRequest, "structure", "invalid JSON at %s: %v", position(b, se.Offset), se)
	case errors.Is(err, io.ErrUnexpectedEOF):
		return NewError(http.StatusBadRequest, "structure", "invalid JSON: the body ends before the JSON value does (%s)", position(b, int64(len(b))))
	}
	return NewError(http.StatusBadRequest, "structure", "invalid JSON: %v", err)
}

// position renders a byte offset of b as "line L, column C (offset O)".
func position(b []byte, offset int64) string {
	if offset > int64(len(b)) {
		offset = int64(len(b))
	}
	line := 1 + bytes.Count(b[:offset], []byte("\n"))
	col := offset - int64(bytes.LastIndexByte(b[:offset], '\n'))
	return "line " + strconv.Itoa(line) + ", column " + strconv.FormatInt(col, 10) + " (byte " + strconv.FormatInt(offset, 10) + ")"
}

// checkContentType accepts a body of one of the given media types, or
// without a Content-Type.
func checkContentType(header string, accepted ...string) error {
	if header == "" {
		return nil
	}
	mt, _, err := mime.ParseMediaType(header)
	if err == nil {
		for _, a := range accepted {
			if mt == a {
				return nil
			}
		}
	}
	return NewError(http.StatusUnsupportedMediaType, "not-supported", "unsupported Content-Type %q: send %s", header, strings.Join(accepted, " or "))
}

// checkFormat refuses a request that asks for a format other than JSON,
// by _format or Accept.
func checkFormat(format, accept string) error {
	switch format {
	case "", "json", "application/json", "application/fhir+json", "application/json+fhir":
	default:
		return NewError(http.StatusNotAcceptable, "not-supported", "_format=%s is not supported: this server speaks FHIR JSON only (_format=json)", format)
	}
	if accept == "" || format != "" || strings.Contains(accept, "json") || strings.Contains(accept, "*/*") || strings.Contains(accept, "application/*") {
		return nil
	}
	return NewError(http.StatusNotAcceptable, "not-supported", "cannot answer in %q: this server speaks FHIR JSON only (Accept: application/fhir+json)", accept)
}

// parseETag reads a version from an If-Match header: W/"3", "3" or 3.
// Empty means no condition (0).
func parseETag(s string) (int64, error) {
	if s == "" {
		return 0, nil
	}
	v := strings.Trim(strings.TrimPrefix(strings.TrimSpace(s), "W/"), `"`)
	n, err := strconv.ParseInt(v, 10, 64)
	if err != nil || n < 1 {
		return 0, NewError(http.StatusBadRequest, "invalid", "invalid If-Match %q: give the ETag of the version you read, e.g. W/\"3\"", s)
	}
	return n, nil
}

func etag(version int64) string { return `W/"` + strconv.FormatInt(version, 10) + `"` }

// parsePrefer reads the return and handling preferences of Prefer headers.
func parsePrefer(values []string) (ret string, strict bool) {
	for _, v := range values {
		for _, pref := range strings.Split(v, ",") {
			k, val, _ := strings.Cut(strings.TrimSpace(pref), "=")
			val = strings.Trim(val, `"`)
			switch strings.ToLower(k) {
			case "return":
				ret = val
			case "handling":
				strict = val == "strict"
			}
		}
	}
	return ret, strict
}

// writeResult writes a successful answer.
func (h *Handler) writeResult(w http.ResponseWriter, c *call, res *result) {
	hd := w.Header()
	if res.resource != nil {
		hd.Set("ETag", etag(res.resource.Version))
		hd.Set("Last-Modified", res.resource.LastUpdated.UTC().Format(http.TimeFormat))
		if res.write && res.status == http.StatusCreated || c.kind == kCreate {
			hd.Set("Location", c.base+"/"+versionPath(res.resource))
		}
	}
	body := res.body
	if body == nil && res.resource != nil && !res.resource.Deleted {
		body = res.resource.Content
		if res.write {
			switch {
			case c.ret == "minimal":
				body = nil
			case c.ret == "OperationOutcome", c.ret == "" && len(res.issues) > 0:
				// Without a return preference, a write the rules
				// warned about answers with the warnings rather than
				// the resource, so that they are not lost.
				body = writeOutcome(res)
			}
		}
	}
	if body == nil {
		w.WriteHeader(res.status)
		return
	}
	hd.Set("Content-Type", contentType)
	w.WriteHeader(res.status)
	w.Write(body)
}

// writeError writes err as an OperationOutcome.
func (h *Handler) writeError(w http.ResponseWriter, r *http.Request, err error) {
	e := asError(err)
	if e == nil {
		e = h.internal(r.Context(), err)
	}
	w.Header().Set("Content-Type", contentType)
	w.WriteHeader(e.Status)
	w.Write(mustJSON(newOutcome(e.Issues)))
}
