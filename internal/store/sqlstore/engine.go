// Package sqlstore is the FHIR resource store (store.Resources) written
// once for both SQL engines: the writes, the reads, and the compiler that
// turns a parsed search (search.Query) into SQL. The engines
// (store/sqlite, store/postgres) supply an Engine: their connections and
// the few things their SQL does differently (Dialect). Everything else —
// every statement, every search semantic — is here, so that the two engines
// behave alike by construction. On an engine with one writer (SQLite), the
// Updates waiting at a moment commit together (group.go).
//
// The schema is migration 2 of each engine. In short:
//
//	resources          current version of each resource: (patient_key, type, id) → version, last_updated, deleted
//	resource_versions  every version, with its content as the client sent it
//	search_string      (patient_key, type, id, param, ord, norm, text)
//	search_token       (… system, code, norm)
//	search_date        (… low, high)                 integer microseconds, [low, high)
//	search_reference   (… ref_type, ref_id, url, id_system, id_code)
//	search_number      (… value)
//	search_quantity    (… value, system, code, unit)
//	search_uri         (… uri)
//
// Every table is patient-scoped: its primary key starts with patient_key
// (DESIGN.md §3). Statements use $n placeholders, bound to the n-th
// argument; no string literal in them holds a '$'.
package sqlstore

import "context"

// Engine is what an SQL engine provides to the shared resource store.
type Engine interface {
	Dialect
	// Reader returns the connections that serve reads outside a write
	// transaction.
	Reader() DB
	// Begin starts the write transaction of one Update.
	Begin(ctx context.Context) (Tx, error)
}

// Dialect is what the SQL of an engine does differently.
type Dialect interface {
	// Insert returns the statements that insert rows into table: len(rows)
	// is a multiple of len(cols), one value per column, row after row.
	// SQLite uses multi-row INSERT … VALUES; PostgreSQL sends one array per
	// column, whatever the number of rows.
	Insert(table string, cols []Column, rows []any) []Stmt
	// Conflict reports whether err means that concurrent writers collided
	// (a unique violation, a deadlock, a serialization failure): the store
	// then reports store.ErrConflict rather than an internal error.
	Conflict(err error) bool
}

// Column is a column of a table the store inserts into.
type Column struct {
	Name string
	Kind Kind
}

// Kind is the Go type of a column's values: string, int64, float64, bool
// or []byte.
type Kind int

const (
	Text Kind = iota
	Int
	Float
	Bool
	Bytes
)

// DB runs SQL: an engine's read pool, or a write transaction.
type DB interface {
	Query(ctx context.Context, sql string, args ...any) (Rows, error)
	// Exec runs statements in order and returns how many rows each
	// affected. An engine may send them in one round trip; the first
	// error stops it.
	Exec(ctx context.Context, stmts ...Stmt) ([]int64, error)
}

// Rows is the result of a query, read like database/sql's.
type Rows interface {
	Next() bool
	Scan(dest ...any) error
	Err() error
	Close()
}

// Stmt is one SQL statement and its arguments.
type Stmt struct {
	SQL  string
	Args []any
}

// Tx is a write transaction.
type Tx interface {
	DB
	// Lock makes every other transaction that locks one of keys (each
	// "Type/id") wait until this one ends. The store locks the resources it
	// writes before reading their current version, so that two writers of
	// one resource take turns even when they file it under different
	// patient keys, which no unique constraint can catch. An engine that
	// runs one write transaction at a time (SQLite) has nothing to do.
	Lock(ctx context.Context, keys []string) error
	Commit(ctx context.Context) error
	Rollback(ctx context.Context) error
}
