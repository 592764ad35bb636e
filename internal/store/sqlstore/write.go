package sqlstore

import (
	"context"
	"fmt"
	"strings"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/store"
)

// maxQueued is how many writes a transaction queues before flushing them:
// it bounds the memory held and the size of the statements.
const maxQueued = 500

var (
	resourceColumns = []Column{
		{"patient_key", Text}, {"type", Text}, {"id", Text},
		{"version", Int}, {"last_updated", Int}, {"deleted", Bool},
	}
	versionColumns = append(append([]Column{}, resourceColumns...), Column{"content", Bytes})
)

// Update runs fn in one write transaction and commits what it wrote. On a
// Grouped engine it shares the transaction with the Updates waiting at the
// same time (see group), keeping its own outcome.
func (s *Resources) Update(ctx context.Context, fn func(store.ResourceTx) error) error {
	if s.group != nil {
		return s.group.update(ctx, fn)
	}
	tx, err := s.e.Begin(ctx)
	if err != nil {
		return fmt.Errorf("store: begin a write transaction: %w", err)
	}
	committed := false
	defer func() {
		if !committed {
			tx.Rollback(context.WithoutCancel(ctx))
		}
	}()
	if err := run(ctx, s.e, tx, fn); err != nil {
		return err
	}
	if err := tx.Commit(ctx); err != nil {
		return failed(s.e, "commit", err)
	}
	committed = true
	return nil
}

// run gives fn a ResourceTx on tx and stores what it queued; tx is neither
// committed nor rolled back.
func run(ctx context.Context, e Engine, tx Tx, fn func(store.ResourceTx) error) error {
	t := &writeTx{e: e, tx: tx, queued: map[resourceKey]bool{}, index: map[*indexTable][]any{}}
	defer func() { t.done = true }()
	if err := fn(t); err != nil {
		return err
	}
	return t.flush(ctx)
}

// writeTx is the ResourceTx of an Update. Write queues; flush checks the
// queued versions against the current ones with one query, after locking
// them, and stores everything with a few multi-row statements, which an
// engine may send in one round trip.
type writeTx struct {
	e  Engine
	tx Tx

	writes []store.Write // queued, without their Index
	queued map[resourceKey]bool
	index  map[*indexTable][]any // the index rows of the queued writes

	err  error // the first failure: the transaction is lost
	done bool  // Update has returned
}

type resourceKey struct{ typ, id string }

// Read stores the queued writes first only if one is of the resource
// read: no other write can change what it returns.
func (t *writeTx) Read(ctx context.Context, typ, id string) (store.Resource, error) {
	if err := t.usable(); err != nil {
		return store.Resource{}, err
	}
	if t.queued[resourceKey{typ, id}] {
		if err := t.flush(ctx); err != nil {
			return store.Resource{}, err
		}
	}
	return readCurrent(ctx, t.tx, typ, id)
}

func (t *writeTx) Search(ctx context.Context, q *search.Query) (*store.Page, error) {
	if err := t.flush(ctx); err != nil {
		return nil, err
	}
	return runSearch(ctx, t.tx, q)
}

func (t *writeTx) Write(ctx context.Context, w store.Write) error {
	if err := t.usable(); err != nil {
		return err
	}
	if err := checkWrite(&w); err != nil {
		return err
	}
	k := resourceKey{w.Type, w.ID}
	if t.queued[k] { // its check must see the version queued before
		if err := t.flush(ctx); err != nil {
			return err
		}
	}
	if !w.Deleted {
		appendIndexRows(t.index, &w.Resource, w.Index)
	}
	w.Index = nil
	t.writes = append(t.writes, w)
	t.queued[k] = true
	if len(t.writes) >= maxQueued {
		return t.flush(ctx)
	}
	return nil
}

// usable returns why the transaction can take no more work, if it cannot.
func (t *writeTx) usable() error {
	if t.done {
		return fmt.Errorf("store: the transaction is over: use it only inside the function given to Update")
	}
	return t.err
}

// checkWrite refuses a write that no current version could make right:
// these are the caller's mistakes, not conflicts.
func checkWrite(w *store.Write) error {
	name := w.Type + "/" + w.ID
	switch {
	case w.Type == "" || w.ID == "":
		return fmt.Errorf("store: write %q: the type and the id must not be empty", name)
	case w.Version < 1:
		return fmt.Errorf("store: write %s: version %d; versions start at 1", name, w.Version)
	case w.ExpectVersion < 0:
		return fmt.Errorf("store: write %s: expected version %d; want 0 (new) or more", name, w.ExpectVersion)
	case w.ExpectVersion > 0 && w.Version != w.ExpectVersion+1:
		return fmt.Errorf("store: write %s: version %d does not follow the expected version %d", name, w.Version, w.ExpectVersion)
	case w.LastUpdated.IsZero():
		return fmt.Errorf("store: write %s: LastUpdated is not set", name)
	case !w.Deleted && len(w.Content) == 0:
		return fmt.Errorf("store: write %s: no content", name)
	}
	for _, v := range w.Index {
		if v.Param == nil {
			return fmt.Errorf("store: write %s: an index value has no Param", name)
		}
	}
	return nil
}

// flush stores the queued writes. After a failure the transaction is lost:
// flush and every later call return that failure.
func (t *writeTx) flush(ctx context.Context) error {
	if err := t.usable(); err != nil || len(t.writes) == 0 {
		return err
	}
	err := t.store(ctx)
	t.writes = t.writes[:0]
	clear(t.queued)
	for tb, rows := range t.index {
		t.index[tb] = rows[:0]
	}
	t.err = err
	return err
}

// current is the current version of a resource, as the resources table
// has it.
type current struct {
	patientKey, typ, id string
	version             int64
	deleted             bool
}

func (t *writeTx) store(ctx context.Context) error {
	keys := make([]string, len(t.writes))
	for i, w := range t.writes {
		keys[i] = w.Type + "/" + w.ID
	}
	if err := t.tx.Lock(ctx, keys); err != nil {
		return t.fail("lock the resources to write", err)
	}
	found, err := t.currentVersions(ctx)
	if err != nil {
		return err
	}

	var replaced []current
	var moves []Stmt
	resources := make([]any, 0, len(t.writes)*len(resourceColumns))
	versions := make([]any, 0, len(t.writes)*len(versionColumns))
	for i := range t.writes {
		w := &t.writes[i]
		cur, exists := found[resourceKey{w.Type, w.ID}]
		if err := checkVersion(w, cur, exists); err != nil {
			return err
		}
		if exists {
			replaced = append(replaced, cur)
			if cur.patientKey != w.PatientKey {
				moves = append(moves, moveHistory(cur, w.PatientKey)...)
			}
		}
		content := w.Content
		if content == nil {
			content = []byte{} // a deletion: the column is NOT NULL
		}
		lu := w.LastUpdated.UnixMicro()
		resources = append(resources, w.PatientKey, w.Type, w.ID, w.Version, lu, w.Deleted)
		versions = append(versions, w.PatientKey, w.Type, w.ID, w.Version, lu, w.Deleted, content)
	}

	// The statements, in order: out with the replaced versions' current
	// rows (the first statement, whose count is checked below) and index
	// rows; history of moved resources to their new patient key; in with
	// the new versions.
	var stmts []Stmt
	if len(replaced) > 0 {
		stmts = append(stmts, deleteCurrent(replaced))
		for _, tb := range indexTables {
			stmts = append(stmts, deleteIndex(tb, replaced))
		}
	}
	stmts = append(stmts, moves...)
	stmts = append(stmts, t.e.Insert("resources", resourceColumns, resources)...)
	stmts = append(stmts, t.e.Insert("resource_versions", versionColumns, versions)...)
	for _, tb := range indexTables {
		if rows := t.index[tb]; len(rows) > 0 {
			stmts = append(stmts, t.e.Insert(tb.name, tb.cols, rows)...)
		}
	}
	affected, err := t.tx.Exec(ctx, stmts...)
	if err != nil {
		return t.fail("write", err)
	}
	// The lock makes this impossible; should a writer bypass it, the
	// conditional delete still keeps two updates from both succeeding.
	if len(replaced) > 0 && affected[0] != int64(len(replaced)) {
		return fmt.Errorf("store: write: %d of %d resources changed meanwhile: %w",
			int64(len(replaced))-affected[0], len(replaced), store.ErrConflict)
	}
	return nil
}

// currentVersions reads the current version of every queued resource.
func (t *writeTx) currentVersions(ctx context.Context) (map[resourceKey]current, error) {
	var sql strings.Builder
	args := make([]any, 0, 2*len(t.writes))
	sql.WriteString(`SELECT patient_key, type, id, version, deleted FROM resources WHERE (type, id) IN (VALUES `)
	for i, w := range t.writes {
		if i > 0 {
			sql.WriteString(", ")
		}
		args = append(args, w.Type, w.ID)
		fmt.Fprintf(&sql, "($%d, $%d)", len(args)-1, len(args))
	}
	sql.WriteString(")")
	rows, err := t.tx.Query(ctx, sql.String(), args...)
	if err != nil {
		return nil, t.fail("read the current versions", err)
	}
	defer rows.Close()
	found := make(map[resourceKey]current, len(t.writes))
	for rows.Next() {
		var c current
		if err := rows.Scan(&c.patientKey, &c.typ, &c.id, &c.version, &c.deleted); err != nil {
			return nil, t.fail("read the current versions", err)
		}
		found[resourceKey{c.typ, c.id}] = c
	}
	if err := rows.Err(); err != nil {
		return nil, t.fail("read the current versions", err)
	}
	return found, nil
}

// checkVersion holds a write to the version it expected.
func checkVersion(w *store.Write, cur current, exists bool) error {
	conflict := func(format string, args ...any) error {
		return fmt.Errorf("store: %s/%s: %s: %w", w.Type, w.ID, fmt.Sprintf(format, args...), store.ErrConflict)
	}
	switch {
	case w.ExpectVersion == 0 && exists && !cur.deleted:
		return conflict("already exists, at version %d", cur.version)
	case w.ExpectVersion > 0 && !exists:
		return conflict("expected version %d, but the resource does not exist", w.ExpectVersion)
	case w.ExpectVersion > 0 && cur.version != w.ExpectVersion:
		return conflict("expected version %d, but the current version is %d", w.ExpectVersion, cur.version)
	case w.Version != cur.version+1:
		return conflict("version %d does not follow the current version %d", w.Version, cur.version)
	}
	return nil
}

// deleteCurrent deletes the current rows of resources about to get a new
// version, each only if still at the version read.
func deleteCurrent(rs []current) Stmt {
	var sql strings.Builder
	args := make([]any, 0, 4*len(rs))
	sql.WriteString(`DELETE FROM resources WHERE `)
	for i, c := range rs {
		if i > 0 {
			sql.WriteString(" OR ")
		}
		args = append(args, c.patientKey, c.typ, c.id, c.version)
		n := len(args)
		fmt.Fprintf(&sql, "(patient_key = $%d AND type = $%d AND id = $%d AND version = $%d)", n-3, n-2, n-1, n)
	}
	return Stmt{sql.String(), args}
}

// deleteIndex deletes the index rows of resources about to get a new
// version.
func deleteIndex(tb *indexTable, rs []current) Stmt {
	var sql strings.Builder
	args := make([]any, 0, 3*len(rs))
	fmt.Fprintf(&sql, `DELETE FROM %s WHERE (patient_key, type, id) IN (VALUES `, tb.name)
	for i, c := range rs {
		if i > 0 {
			sql.WriteString(", ")
		}
		args = append(args, c.patientKey, c.typ, c.id)
		n := len(args)
		fmt.Fprintf(&sql, "($%d, $%d, $%d)", n-2, n-1, n)
	}
	sql.WriteString(")")
	return Stmt{sql.String(), args}
}

// moveHistory files the past versions of a resource under its new patient
// key. Copy then delete, rather than UPDATE: Citus cannot update the
// distribution column.
func moveHistory(cur current, to string) []Stmt {
	return []Stmt{
		{`INSERT INTO resource_versions (patient_key, type, id, version, last_updated, deleted, content)
			SELECT CAST($1 AS TEXT), type, id, version, last_updated, deleted, content
			FROM resource_versions WHERE patient_key = $2 AND type = $3 AND id = $4`,
			[]any{to, cur.patientKey, cur.typ, cur.id}},
		{`DELETE FROM resource_versions WHERE patient_key = $1 AND type = $2 AND id = $3`,
			[]any{cur.patientKey, cur.typ, cur.id}},
	}
}

// fail describes a failed statement; a collision between writers becomes
// store.ErrConflict.
func (t *writeTx) fail(op string, err error) error { return failed(t.e, op, err) }

func failed(d Dialect, op string, err error) error {
	if d.Conflict(err) {
		return fmt.Errorf("store: %s: another transaction wrote the same resources (%v): %w", op, err, store.ErrConflict)
	}
	return fmt.Errorf("store: %s: %w", op, err)
}
