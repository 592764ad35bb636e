// Package sqlite is the embedded store engine: one SQLite file, opened with
// modernc.org/sqlite (pure Go, no cgo).
//
// SQLite allows one writer at a time, so the Store keeps exactly one write
// connection, through which every write goes in turn (the resource store
// commits the Updates waiting together: sqlstore.Grouped), plus a pool of
// read-only connections that WAL mode lets run alongside the writer, and
// one connection that checkpoints the WAL beside them (checkpoint.go).
// synchronous=FULL fsyncs every commit: once a write has returned, it
// survives a power cut.
package sqlite

import (
	"context"
	"database/sql"
	"embed"
	"errors"
	"fmt"
	"io/fs"
	"net/url"
	"os"
	"path/filepath"
	"runtime"

	"github.com/pressly/goose/v3"
	_ "modernc.org/sqlite" // registers the "sqlite" database/sql driver

	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the migration files of this engine, numbered like
// those of the PostgreSQL engine.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return sub
}

// busyTimeoutMillis is how long a connection waits for a lock held by
// another process (a backup, `carnet migrate`) before failing with
// SQLITE_BUSY.
const busyTimeoutMillis = "10000"

// The page cache of each connection, in KiB as SQLite's negative
// cache_size says (the default is 2 MiB): the writer's holds the pages a
// group of Updates dirties until their commit; the readers' caches add
// up (max(4, NumCPU) of them) outside Go's heap, in the server's memory.
const (
	writerCacheKiB = "-32768"
	readerCacheKiB = "-8192"
)

// Store is a SQLite database file. It implements store.Store.
type Store struct {
	path   string
	writer *sql.DB // exactly one connection: SQLite has one writer at a time
	reader *sql.DB // read-only connections
	ckpt   *checkpointer

	writerStmts, readerStmts *stmtCache

	*sqlstore.Resources
}

var _ store.Store = (*Store)(nil)

// Open opens (creating it if needed) the database file at path, and its
// directory. Call Migrate before use.
func Open(ctx context.Context, path string) (*Store, error) {
	path, err := filepath.Abs(path)
	if err != nil {
		return nil, fmt.Errorf("sqlite: database path: %w", err)
	}
	if err := os.MkdirAll(filepath.Dir(path), 0o700); err != nil {
		return nil, fmt.Errorf("sqlite: create the database directory: %w", err)
	}

	// The writer sets the persistent journal mode (WAL) before any reader
	// opens. BEGIN IMMEDIATE takes the write lock at the start of a
	// transaction rather than on its first write, so a transaction never
	// fails half-way on a lock another process holds. secure_delete
	// overwrites deleted rows, so a destroyed data key does not linger in
	// free pages of the file. temp_store=MEMORY keeps the journals of
	// statements and savepoints (one per Update of a group) in memory: in
	// temporary files, writing them cost a sixth of a deposit's CPU. The
	// page cache holds a group's pages without spilling them to the WAL
	// before the commit.
	writer, err := sql.Open("sqlite", dsn(path, url.Values{
		"_busy_timeout": {busyTimeoutMillis},
		"_journal_mode": {"WAL"},
		"_synchronous":  {"FULL"},
		"_foreign_keys": {"1"},
		"_txlock":       {"immediate"},
		"_pragma": {"secure_delete(1)", "wal_autocheckpoint(" + writerCheckpointPages + ")",
			"temp_store(MEMORY)", "cache_size(" + writerCacheKiB + ")"},
	}))
	if err != nil {
		return nil, fmt.Errorf("sqlite: open %s: %w", path, err)
	}
	writer.SetMaxOpenConns(1)
	writer.SetMaxIdleConns(1)
	writer.SetConnMaxLifetime(0)
	writer.SetConnMaxIdleTime(0)
	if err := writer.PingContext(ctx); err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s: %w (is the path writable, and the file a carnet database?)", path, err)
	}

	readers := max(4, runtime.NumCPU())
	reader, err := sql.Open("sqlite", dsn(path, url.Values{
		"_busy_timeout": {busyTimeoutMillis},
		"_foreign_keys": {"1"},
		"_query_only":   {"1"},
		"_pragma":       {"temp_store(MEMORY)", "cache_size(" + readerCacheKiB + ")"},
	}))
	if err != nil {
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	reader.SetMaxOpenConns(readers)
	reader.SetMaxIdleConns(readers)
	if err := reader.PingContext(ctx); err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s for reading: %w", path, err)
	}
	ckpt, err := sql.Open("sqlite", dsn(path, url.Values{"_busy_timeout": {busyTimeoutMillis}}))
	if err != nil {
		reader.Close()
		writer.Close()
		return nil, fmt.Errorf("sqlite: open %s for checkpoints: %w", path, err)
	}
	ckpt.SetMaxOpenConns(1)
	s := &Store{path: path, writer: writer, reader: reader, ckpt: newCheckpointer(ckpt),
		writerStmts: newStmtCache(writer), readerStmts: newStmtCache(reader)}
	s.Resources = sqlstore.New(engine{s})
	return s, nil
}

// dsn builds a SQLite URI for path, so that any character in the path
// (even '?') reaches SQLite intact.
func dsn(path string, params url.Values) string {
	u := url.URL{Scheme: "file", Path: path, RawQuery: params.Encode()}
	return u.String()
}

// Engine returns "sqlite".
func (s *Store) Engine() string { return "sqlite" }

// Migrate applies the embedded migrations the file lacks, through the write
// connection. goose takes no lock on SQLite: run one migrating process at a
// time per file (in a single process the one writer serializes it).
func (s *Store) Migrate(ctx context.Context) error {
	p, err := goose.NewProvider(goose.DialectSQLite3, s.writer, Migrations(),
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("sqlite: migrate: %w", err)
	}
	// Not p.Close: it would close the writer.
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("sqlite: migrate %s: %w", s.path, err)
	}
	return nil
}

// Ping checks both pools.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.writer.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: writer: %w", err)
	}
	if err := s.reader.PingContext(ctx); err != nil {
		return fmt.Errorf("sqlite: reader: %w", err)
	}
	return nil
}

// SchemaVersion reads goose's version table; 0 before the first migration.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var migrated bool
	err := s.reader.QueryRowContext(ctx, `
		SELECT EXISTS (SELECT 1 FROM sqlite_schema WHERE type = 'table' AND name = 'goose_db_version')`,
	).Scan(&migrated)
	if err != nil || !migrated {
		return 0, wrap("schema version", err)
	}
	var v int64
	err = s.reader.QueryRowContext(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version`).Scan(&v)
	return v, wrap("schema version", err)
}

// Analyze refreshes the statistics the query planner chooses indexes by,
// as after a bulk import; SQLite never gathers them by itself.
func (s *Store) Analyze(ctx context.Context) error {
	_, err := s.writer.ExecContext(ctx, "ANALYZE")
	return wrap("analyze", err)
}

// Stats sums the writer and the read pool.
func (s *Store) Stats() store.PoolStats {
	w, r := s.writer.Stats(), s.reader.Stats()
	return store.PoolStats{
		Open:  w.OpenConnections + r.OpenConnections,
		InUse: w.InUse + r.InUse,
		Idle:  w.Idle + r.Idle,
		Waits: w.WaitCount + r.WaitCount,
	}
}

// Close closes the checkpointer and the readers, then the writer: the
// last connection to close checkpoints the WAL into the database file.
func (s *Store) Close() error {
	return errors.Join(s.ckpt.Close(), s.reader.Close(), s.writer.Close())
}

// wrap prefixes an error with the engine and the operation; nil stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("sqlite: %s: %w", op, err)
}
