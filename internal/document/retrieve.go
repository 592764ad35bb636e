package document

import (
	"bytes"
	"context"
	"encoding/base64"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"mime"
	"net/http"
	"strings"

	"github.com/carnet-sante/carnet/internal/blob"
	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/server"
	"github.com/carnet-sante/carnet/internal/store"
)

// retrieve serves GET Binary/{id}: the Retrieve Document transaction
// (ITI-68). The document's bytes are served as they were deposited, with
// their media type, a strong ETag (their SHA-256), Content-Length, and
// Range requests. A client that asks for FHIR JSON (Accept or _format)
// gets the Binary resource instead, its data in base64.
//
// The bytes are read from the vault and authenticated in full before the
// first byte is sent: an altered or truncated object is answered with a
// 500 OperationOutcome that says so, never with wrong bytes.
func (s *Service) retrieve(w http.ResponseWriter, r *http.Request) {
	id := r.PathValue("id")
	res, bin, err := s.readBinary(r.Context(), id)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	ptr, hasPointer, err := readPointer(bin)
	if err != nil {
		s.fail(w, r, fmt.Errorf("Binary/%s: %w", id, err))
		return
	}
	var content io.ReadSeeker
	if hasPointer {
		rd, err := s.open(r.Context(), res.PatientKey, ptr)
		if err != nil {
			s.fail(w, r, fmt.Errorf("Binary/%s: %w", id, err))
			return
		}
		defer rd.Close()
		content = rd
	} else { // a Binary stored with its data (none is, through this API)
		data, err := base64.StdEncoding.DecodeString(str(bin, "data"))
		if err != nil {
			s.fail(w, r, fmt.Errorf("Binary/%s: data: %w", id, err))
			return
		}
		content = bytes.NewReader(data)
	}
	if wantsFHIR(r) {
		s.serveResource(w, r, res, bin, content)
		return
	}
	h := w.Header()
	ct := str(bin, "contentType")
	if _, _, err := mime.ParseMediaType(ct); err != nil {
		ct = "application/octet-stream"
	}
	h.Set("Content-Type", ct)
	h.Set("X-Content-Type-Options", "nosniff")
	h.Set("Content-Security-Policy", "sandbox")
	if hasPointer {
		h.Set("ETag", ptr.etag())
	}
	http.ServeContent(w, r, "", res.LastUpdated, content)
}

// readBinary reads Binary/id and asks the Guard whether the caller may
// see it.
func (s *Service) readBinary(ctx context.Context, id string) (*store.Resource, map[string]any, error) {
	res, err := s.store.Read(ctx, "Binary", id)
	switch {
	case errors.Is(err, store.ErrNotFound):
		return nil, nil, rest.NewError(http.StatusNotFound, "not-found", "Binary/%s is not known", id)
	case err != nil:
		return nil, nil, err
	}
	if s.opt.Guard != nil {
		if err := s.opt.Guard.Resource(ctx, &res); err != nil {
			var e *rest.Error
			if errors.As(err, &e) {
				return nil, nil, e
			}
			return nil, nil, rest.NewError(http.StatusForbidden, "forbidden", "%v", err)
		}
	}
	if res.Deleted {
		return nil, nil, rest.NewError(http.StatusGone, "deleted", "Binary/%s was deleted (version %d)", id, res.Version)
	}
	bin, err := decode(res.Content)
	if err != nil {
		return nil, nil, fmt.Errorf("decoding Binary/%s: %w", id, err)
	}
	return &res, bin, nil
}

// errIntegrity marks a document whose stored bytes are not those
// deposited.
var errIntegrity = errors.New("the stored bytes of this document failed their integrity check")

// open opens the bytes a pointer names and authenticates them all, so
// that nothing is sent of a document that would fail half-way.
func (s *Service) open(ctx context.Context, patient string, p pointer) (*blob.Reader, error) {
	rd, err := s.vault.Open(ctx, patient, p.key)
	if err != nil {
		return nil, err
	}
	n, err := io.Copy(io.Discard, rd)
	if err == nil && n != p.size {
		err = fmt.Errorf("%d bytes, %d deposited: %w", n, p.size, blob.ErrIntegrity)
	}
	if err == nil {
		_, err = rd.Seek(0, io.SeekStart)
	}
	if err != nil {
		rd.Close()
		return nil, err
	}
	return rd, nil
}

// serveResource answers with the Binary resource, its data in base64.
func (s *Service) serveResource(w http.ResponseWriter, r *http.Request, res *store.Resource, bin map[string]any, content io.Reader) {
	data, err := io.ReadAll(content)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	delete(bin, "_data")
	bin["data"] = base64.StdEncoding.EncodeToString(data)
	body, err := json.Marshal(bin)
	if err != nil {
		s.fail(w, r, err)
		return
	}
	h := w.Header()
	h.Set("Content-Type", "application/fhir+json; charset=utf-8")
	h.Set("ETag", fmt.Sprintf(`W/"%d"`, res.Version))
	h.Set("Last-Modified", res.LastUpdated.UTC().Format(http.TimeFormat))
	w.Write(body)
}

// wantsFHIR reports whether the client asks for the Binary resource
// rather than the document: _format=json, or an Accept that names FHIR
// JSON (or JSON) and is not a wildcard.
func wantsFHIR(r *http.Request) bool {
	switch r.URL.Query().Get("_format") {
	case "json", "application/json", "application/fhir+json", "application/json+fhir":
		return true
	}
	for _, part := range strings.Split(r.Header.Get("Accept"), ",") {
		mt, _, _ := mime.ParseMediaType(strings.TrimSpace(part))
		if mt == "application/fhir+json" || mt == "application/json+fhir" {
			return true
		}
	}
	return false
}

// fail answers with an OperationOutcome. An integrity failure, or bytes
// missing from the vault, is a 500 that says so; other unexpected errors
// a 500 naming the request id. Both are logged.
func (s *Service) fail(w http.ResponseWriter, r *http.Request, err error) {
	var e *rest.Error
	switch {
	case errors.As(err, &e):
	case errors.Is(err, blob.ErrIntegrity):
		s.log.ErrorContext(r.Context(), "document: integrity failure", "path", r.URL.Path, "request_id", server.RequestID(r.Context()), "err", err)
		e = rest.NewError(http.StatusInternalServerError, "exception", "%s of %s (altered or corrupted in storage): they are not served; the incident was logged (request id %q)", errIntegrity, strings.TrimPrefix(r.URL.Path, rest.BasePath+"/"), server.RequestID(r.Context()))
	case errors.Is(err, blob.ErrNotFound):
		s.log.ErrorContext(r.Context(), "document: bytes missing", "path", r.URL.Path, "request_id", server.RequestID(r.Context()), "err", err)
		e = rest.NewError(http.StatusInternalServerError, "exception", "the stored bytes of %s are missing; the incident was logged (request id %q)", strings.TrimPrefix(r.URL.Path, rest.BasePath+"/"), server.RequestID(r.Context()))
	default:
		s.log.ErrorContext(r.Context(), "document: internal error", "path", r.URL.Path, "request_id", server.RequestID(r.Context()), "err", err)
		e = rest.NewError(http.StatusInternalServerError, "exception", "internal error while reading the document (request id %q); it was logged, please report it", server.RequestID(r.Context()))
	}
	body, _ := json.Marshal(map[string]any{"resourceType": "OperationOutcome", "issue": e.Issues})
	w.Header().Set("Content-Type", "application/fhir+json; charset=utf-8")
	w.WriteHeader(e.Status)
	w.Write(body)
}
