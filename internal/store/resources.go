package store

import (
	"context"
	"errors"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
)

// ErrConflict is returned when a write expected another current version
// (optimistic locking: If-Match, concurrent updates, create of an existing id).
var ErrConflict = errors.New("version conflict")

// ErrInvalidQuery is returned by Search for a query it cannot run as
// asked: a modifier or prefix that does not apply to the parameter's type,
// a value of the wrong form, a paging cursor that does not fit the sort.
// It is the client's doing (400 Bad Request), not a server failure.
var ErrInvalidQuery = errors.New("invalid search")

// Resource is one version of a FHIR resource as stored: the JSON as the
// client sent it, with meta.versionId and meta.lastUpdated set. The store
// keeps LastUpdated to the microsecond.
type Resource struct {
	Type, ID string
	// PatientKey is the shard key: the id of the Patient whose compartment
	// holds the resource, "" for resources outside every compartment
	// (directory, terminology).
	PatientKey  string
	Version     int64
	LastUpdated time.Time
	Deleted     bool
	Content     []byte
}

// Write is one new version to store. ExpectVersion is the version the
// writer read: 0 means the resource must not exist yet (or be deleted);
// a mismatch fails the whole transaction with ErrConflict. Version must be
// the current version plus one (1 for a new resource), as the content's
// meta.versionId says; for ExpectVersion > 0 that is ExpectVersion+1.
//
// A resource whose PatientKey differs from its previous version's is moved,
// history included, to the new patient key.
type Write struct {
	Resource
	ExpectVersion int64
	// Index holds the search values extracted from Content by
	// searchparam.Extract; ignored for deletions (a deleted resource
	// matches no search). _id and _lastUpdated need no values: the store
	// searches them on the resource itself.
	Index []searchparam.Value
}

// Page is one page of search results.
type Page struct {
	Resources []Resource
	// Included holds what _include and _revinclude brought in.
	Included []Resource
	// Total is the number of matches when the query asked for it, else -1.
	Total int
	// Next is the cursor of the following page, nil on the last page.
	Next *search.Cursor
}

// Resources is the FHIR resource store: current versions, history, and the
// search index, kept consistent in one transaction per write.
type Resources interface {
	// Read returns the current version of a resource (Deleted set if its
	// last version is a deletion), or ErrNotFound.
	Read(ctx context.Context, typ, id string) (Resource, error)
	// ReadVersion returns one version of a resource, or ErrNotFound.
	ReadVersion(ctx context.Context, typ, id string, version int64) (Resource, error)
	// History lists versions, newest first: of one resource when id is set
	// (an unknown resource has none), of a whole type otherwise; since
	// (versions written at or after it) and count bound it (zero: no bound).
	History(ctx context.Context, typ, id string, since time.Time, count int) ([]Resource, error)
	// Search runs a query and returns one page. A query with an empty Type
	// and a Compartment searches every type in that compartment
	// (Patient/{id}/$everything). A query the store cannot run as asked
	// fails with ErrInvalidQuery.
	Search(ctx context.Context, q *search.Query) (*Page, error)
	// Update runs fn in one write transaction: every Write in it commits
	// together or not at all.
	Update(ctx context.Context, fn func(tx ResourceTx) error) error
}

// ResourceTx is a write transaction on the resource store, for one
// goroutine. Reads inside it see its own writes.
//
// Writes are checked and stored in bulk: Write queues w (keep its Content
// unchanged until Update returns), and the queue is flushed — versions
// checked, rows written — before the transaction's next Read or Search and
// at commit. So a conflict may be reported by Write, by a later Read or
// Search, or by Update itself; either way the transaction fails as a whole,
// and Update returns ErrConflict even if fn ignored the error.
type ResourceTx interface {
	Read(ctx context.Context, typ, id string) (Resource, error)
	Search(ctx context.Context, q *search.Query) (*Page, error)
	Write(ctx context.Context, w Write) error
	// Emit records an event (see Event) that commits with the
	// transaction's writes, or not at all.
	Emit(ctx context.Context, e Event) error
}
