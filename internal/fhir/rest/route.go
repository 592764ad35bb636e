package rest

import (
	"net/http"
	"net/url"
	"strconv"
	"strings"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
)

// kind is a FHIR interaction.
type kind int

const (
	kMetadata    kind = iota // GET metadata
	kBundle                  // POST [base]: batch or transaction
	kCreate                  // POST [type]
	kSearch                  // GET [type], POST [type]/_search
	kHistoryType             // GET [type]/_history
	kRead                    // GET [type]/[id]
	kVread                   // GET [type]/[id]/_history/[vid]
	kHistory                 // GET [type]/[id]/_history
	kUpdate                  // PUT [type]/[id], or PUT [type]?search (conditional)
	kPatch                   // PATCH [type]/[id], or PATCH [type]?search
	kDelete                  // DELETE [type]/[id], or DELETE [type]?search
	kEverything              // GET Patient/[id]/$everything
)

// route is what a request path names.
type route struct {
	kind    kind
	typ, id string // id is empty for a conditional update, patch or delete
	version int64
}

// call is one FHIR interaction: from an HTTP request or a Bundle entry.
type call struct {
	route
	method string
	// path is the request path below the base ("Patient/1"), for
	// messages and history links.
	path  string
	query url.Values
	base  string // absolute base URL of the API
	// fresh is the id a create outside a Bundle gives its resource when
	// a Preparer chose it; "" for a new random id.
	fresh string
	// ifMatch is the version required by If-Match, 0 if none.
	ifMatch     int64
	ifNoneExist string
	// ret is Prefer: return= (minimal, representation, OperationOutcome).
	ret string
	// strict is Prefer: handling=strict: unknown search parameters are
	// errors instead of being ignored.
	strict bool
	// resource is the body of a create or update, decoded once.
	resource map[string]any
	// validated is set when resource was validated already (as part of
	// a Bundle).
	validated bool
	// patch is the body of a patch.
	patch []patchOp
	// rw is the reference rewriter of the transaction c belongs to; nil
	// outside transactions.
	rw *rewriter
}

// label names the interaction in messages: "PUT Patient/1".
func (c *call) label() string {
	s := c.method + " " + c.path
	if len(c.query) > 0 {
		s += "?" + c.query.Encode()
	}
	return s
}

// parseRoute reads the path below the base (without leading slash).
func parseRoute(method, path string, query url.Values) (route, error) {
	if path == "" {
		if method == http.MethodPost {
			return route{kind: kBundle}, nil
		}
		return route{}, methodNotAllowed(method, "the base URL", "POST (a batch or transaction Bundle)")
	}
	seg := strings.Split(path, "/")
	if seg[0] == "metadata" && len(seg) == 1 {
		if method == http.MethodGet {
			return route{kind: kMetadata}, nil
		}
		return route{}, methodNotAllowed(method, "metadata", "GET")
	}
	typ := seg[0]
	if strings.HasPrefix(typ, "_") || strings.HasPrefix(typ, "$") {
		return route{}, NewError(http.StatusNotFound, "not-supported", "%s across all resource types is not supported: use [type]/%s", typ, typ)
	}
	if !searchparam.IsResourceType(typ) {
		return route{}, NewError(http.StatusNotFound, "not-supported", "unknown resource type %q in %q: the path starts with a FHIR R4 resource type (Patient, Observation…), or is metadata", typ, path)
	}
	rt := route{typ: typ}
	switch len(seg) {
	case 1:
		switch method {
		case http.MethodGet:
			rt.kind = kSearch
		case http.MethodPost:
			rt.kind = kCreate
		case http.MethodPut, http.MethodPatch, http.MethodDelete:
			if len(query) == 0 {
				return route{}, NewError(http.StatusBadRequest, "invalid", "%s %s needs an id (%s/[id]) or search parameters (conditional %s)", method, typ, typ, strings.ToLower(method))
			}
			rt.kind = map[string]kind{http.MethodPut: kUpdate, http.MethodPatch: kPatch, http.MethodDelete: kDelete}[method]
		default:
			return route{}, methodNotAllowed(method, typ, "GET, POST, and PUT, PATCH or DELETE with search parameters")
		}
		return rt, nil
	case 2:
		switch seg[1] {
		case "_search":
			if method != http.MethodPost {
				return route{}, methodNotAllowed(method, typ+"/_search", "POST")
			}
			rt.kind = kSearch
			return rt, nil
		case "_history":
			if method != http.MethodGet {
				return route{}, methodNotAllowed(method, typ+"/_history", "GET")
			}
			rt.kind = kHistoryType
			return rt, nil
		}
		if err := checkID(seg[1]); err != nil {
			return route{}, err
		}
		rt.id = seg[1]
		switch method {
		case http.MethodGet:
			rt.kind = kRead
		case http.MethodPut:
			rt.kind = kUpdate
		case http.MethodPatch:
			rt.kind = kPatch
		case http.MethodDelete:
			rt.kind = kDelete
		default:
			return route{}, methodNotAllowed(method, typ+"/[id]", "GET, PUT, PATCH, DELETE")
		}
		return rt, nil
	}
	if err := checkID(seg[1]); err != nil {
		return route{}, err
	}
	rt.id = seg[1]
	switch {
	case len(seg) == 3 && seg[2] == "$everything" && typ == "Patient":
		if method != http.MethodGet {
			return route{}, methodNotAllowed(method, "Patient/[id]/$everything", "GET")
		}
		rt.kind = kEverything
	case len(seg) == 3 && seg[2] == "_history":
		if method != http.MethodGet {
			return route{}, methodNotAllowed(method, typ+"/[id]/_history", "GET")
		}
		rt.kind = kHistory
	case len(seg) == 4 && seg[2] == "_history":
		if method != http.MethodGet {
			return route{}, methodNotAllowed(method, typ+"/[id]/_history/[vid]", "GET")
		}
		v, err := strconv.ParseInt(seg[3], 10, 64)
		if err != nil || v < 1 {
			return route{}, NewError(http.StatusBadRequest, "invalid", "invalid version %q in %q: versions are numbered from 1", seg[3], path)
		}
		rt.kind, rt.version = kVread, v
	default:
		return route{}, NewError(http.StatusNotFound, "not-supported", "no FHIR interaction or operation at %q", path)
	}
	return rt, nil
}

func checkID(id string) error {
	if !search.ValidID(id) {
		return NewError(http.StatusBadRequest, "invalid", "invalid id %q: an id has 1 to 64 letters, digits, '-' or '.'", id)
	}
	return nil
}

func methodNotAllowed(method, what, allowed string) *Error {
	return NewError(http.StatusMethodNotAllowed, "not-supported", "%s is not allowed on %s: use %s", method, what, allowed)
}
