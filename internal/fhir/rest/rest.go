// Package rest serves the FHIR R4 REST API (http://hl7.org/fhir/R4/http.html)
// at /fhir, in JSON, over the resource store (store.Resources).
//
// Every request body is decoded once into a map[string]any (numbers kept as
// written) that is validated, indexed and stored without being decoded
// again. Every error is an OperationOutcome with the status the
// specification asks for, naming the parameter or element at fault; an
// input the client controls never causes a 500. Every read path goes
// through the Guard, where the access decision plugs in; every create,
// update and patch through the Rules of its resource type, where business
// rules plug in (rules.go).
package rest

import (
	"context"
	"log/slog"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/carnet-sante/carnet/internal/server"
	"github.com/carnet-sante/carnet/internal/store"
)

// BasePath is where the API is served.
const BasePath = "/fhir"

// Options configure the API. Zero values get the defaults below.
type Options struct {
	// BaseURL is the absolute URL of the API as clients reach it
	// ("https://carnet.example/fhir"), used in Location headers, fullUrls
	// and links, and recognised in references as this server. Empty: it
	// is derived from each request's Host, which is only right when no
	// proxy rewrites it.
	BaseURL string
	// MaxBody caps request bodies, in bytes (default 16 MiB); a larger
	// body gets 413.
	MaxBody int64
	// DefaultCount is the page size of a search without _count (default
	// 50); MaxCount caps _count (default 1000).
	DefaultCount, MaxCount int
	// Guard decides what each request may read; nil allows everything.
	Guard Guard
	// Log receives internal errors; nil means slog.Default().
	Log *slog.Logger
	// Version is the software version the CapabilityStatement reports.
	Version string
	// Rules are the business rules on writes, by resource type, run in
	// order (see Rule). Their warnings reach the client: in a batch or
	// transaction, in the entry's response.outcome; for a single write,
	// as the body, an OperationOutcome, unless the client asked for
	// another with Prefer: return=representation or minimal.
	Rules map[string][]Rule
	// Preparers see each request that writes as a whole before its store
	// transaction, in order (see Preparer).
	Preparers []Preparer
}

// Handler serves the FHIR API. It is safe for concurrent use.
type Handler struct {
	store store.Resources
	opt   Options
	guard Guard
	log   *slog.Logger

	capMu sync.Mutex
	caps  map[string][]byte // CapabilityStatement by base URL
}

// New returns the API over s.
func New(s store.Resources, opt Options) *Handler {
	if opt.MaxBody <= 0 {
		opt.MaxBody = 16 << 20
	}
	if opt.DefaultCount <= 0 {
		opt.DefaultCount = 50
	}
	if opt.MaxCount <= 0 {
		opt.MaxCount = 1000
	}
	if opt.DefaultCount > opt.MaxCount {
		opt.DefaultCount = opt.MaxCount
	}
	opt.BaseURL = strings.TrimSuffix(opt.BaseURL, "/")
	h := &Handler{store: s, opt: opt, guard: opt.Guard, log: opt.Log, caps: map[string][]byte{}}
	if h.guard == nil {
		h.guard = allowAll{}
	}
	if h.log == nil {
		h.log = slog.Default()
	}
	return h
}

// Register serves the API on mux at BasePath.
func (h *Handler) Register(mux *http.ServeMux) {
	mux.Handle(BasePath, h)
	mux.Handle(BasePath+"/", h)
}

// ServeHTTP serves one request under BasePath.
func (h *Handler) ServeHTTP(w http.ResponseWriter, r *http.Request) {
	c, err := h.newCall(w, r)
	var res *result
	if err == nil {
		res, err = h.serve(r.Context(), c)
	}
	if err != nil {
		h.writeError(w, r, err)
		return
	}
	h.writeResult(w, c, res)
}

// base returns the absolute base URL for links in the answer to r.
func (h *Handler) base(r *http.Request) string {
	if h.opt.BaseURL != "" {
		return h.opt.BaseURL
	}
	scheme := "http"
	if r.TLS != nil {
		scheme = "https"
	}
	return scheme + "://" + r.Host + BasePath
}

// internal reports an unexpected error: logged with the request id, and
// answered with a 500 that names the id rather than the cause.
func (h *Handler) internal(ctx context.Context, err error) *Error {
	id := server.RequestID(ctx)
	h.log.ErrorContext(ctx, "fhir: internal error", "request_id", id, "err", err)
	return NewError(http.StatusInternalServerError, "exception",
		"internal error while processing the request (request id %q); it was logged, please report it", id)
}

// now is the time stamped on the versions a request writes, at the
// millisecond precision of the instants the store keeps.
func now() time.Time { return time.Now().UTC().Truncate(time.Millisecond) }
