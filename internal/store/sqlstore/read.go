package sqlstore

import (
	"context"
	"errors"
	"fmt"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/store"
)

// Resources is the resource store on an SQL engine. It implements
// store.Resources; the engines embed it.
type Resources struct {
	e     Engine
	group *group // nil unless the engine is Grouped
}

var _ store.Resources = (*Resources)(nil)

// New returns the resource store of an engine.
func New(e Engine) *Resources {
	s := &Resources{e: e}
	if g, ok := e.(Grouped); ok && g.GroupCommit() {
		s.group = &group{e: e}
	}
	return s
}

// Read returns the current version of a resource.
func (s *Resources) Read(ctx context.Context, typ, id string) (store.Resource, error) {
	return readCurrent(ctx, s.e.Reader(), typ, id)
}

// ReadVersion returns one version of a resource.
func (s *Resources) ReadVersion(ctx context.Context, typ, id string, version int64) (store.Resource, error) {
	rs, err := queryResources(ctx, s.e.Reader(), selectVersions+`
		WHERE r.type = $1 AND r.id = $2 AND v.version = $3`,
		typ, id, version)
	if err != nil {
		return store.Resource{}, fmt.Errorf("store: read %s/%s version %d: %w", typ, id, version, err)
	}
	if len(rs) == 0 {
		return store.Resource{}, fmt.Errorf("store: %s/%s has no version %d: %w", typ, id, version, store.ErrNotFound)
	}
	return rs[0], nil
}

// History lists the versions of a resource, or of a type, newest first.
func (s *Resources) History(ctx context.Context, typ, id string, since time.Time, count int) ([]store.Resource, error) {
	if typ == "" {
		return nil, errors.New("store: history: no resource type")
	}
	var sql, order string
	var args []any
	if id != "" { // through the current row, which knows the patient key
		sql, order, args = selectVersions+`
		WHERE r.type = $1 AND r.id = $2`, ` ORDER BY v.version DESC`, []any{typ, id}
	} else {
		sql, order, args = `
		SELECT v.patient_key, v.type, v.id, v.version, v.last_updated, v.deleted, v.content
		FROM resource_versions v
		WHERE v.type = $1`, ` ORDER BY v.last_updated DESC, v.id, v.version DESC`, []any{typ}
	}
	if !since.IsZero() {
		args = append(args, since.UnixMicro())
		sql += fmt.Sprintf(` AND v.last_updated >= $%d`, len(args))
	}
	sql += order
	if count > 0 {
		args = append(args, int64(count))
		sql += fmt.Sprintf(` LIMIT $%d`, len(args))
	}
	rs, err := queryResources(ctx, s.e.Reader(), sql, args...)
	if err != nil {
		return nil, fmt.Errorf("store: history of %s/%s: %w", typ, id, err)
	}
	return rs, nil
}

// Search runs a query and returns one page.
func (s *Resources) Search(ctx context.Context, q *search.Query) (*store.Page, error) {
	return runSearch(ctx, s.e.Reader(), q)
}

// selectCurrent selects the current version of resources r, with its
// content: the columns scanResource reads.
const selectCurrent = `
	SELECT r.patient_key, r.type, r.id, r.version, r.last_updated, r.deleted, v.content
	FROM resources r
	JOIN resource_versions v
	  ON v.patient_key = r.patient_key AND v.type = r.type AND v.id = r.id AND v.version = r.version`

// selectVersions selects the versions of resources r, with their content:
// the columns scanResource reads. Every version of a resource is filed
// under the patient key of its current row.
const selectVersions = `
	SELECT v.patient_key, v.type, v.id, v.version, v.last_updated, v.deleted, v.content
	FROM resources r
	JOIN resource_versions v ON v.patient_key = r.patient_key AND v.type = r.type AND v.id = r.id`

// readCurrent reads the current version of a resource. The query knows no
// patient key: it goes through the (type, id) index.
func readCurrent(ctx context.Context, db DB, typ, id string) (store.Resource, error) {
	rs, err := queryResources(ctx, db, selectCurrent+`
		WHERE r.type = $1 AND r.id = $2`,
		typ, id)
	if err != nil {
		return store.Resource{}, fmt.Errorf("store: read %s/%s: %w", typ, id, err)
	}
	if len(rs) == 0 {
		return store.Resource{}, fmt.Errorf("store: %s/%s: %w", typ, id, store.ErrNotFound)
	}
	return rs[0], nil
}

// queryResources runs a query whose columns are those of selectCurrent.
func queryResources(ctx context.Context, db DB, sql string, args ...any) ([]store.Resource, error) {
	rows, err := db.Query(ctx, sql, args...)
	if err != nil {
		return nil, err
	}
	defer rows.Close()
	var rs []store.Resource
	for rows.Next() {
		var r store.Resource
		if err := scanResource(rows, &r); err != nil {
			return nil, err
		}
		rs = append(rs, r)
	}
	return rs, rows.Err()
}

// scanResource reads the columns of selectCurrent, then into extra those
// that follow.
func scanResource(rows Rows, r *store.Resource, extra ...any) error {
	var lastUpdated int64
	dest := append([]any{&r.PatientKey, &r.Type, &r.ID, &r.Version, &lastUpdated, &r.Deleted, &r.Content}, extra...)
	if err := rows.Scan(dest...); err != nil {
		return err
	}
	r.LastUpdated = time.UnixMicro(lastUpdated).UTC()
	return nil
}
