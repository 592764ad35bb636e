// Package postgres is the store engine for PostgreSQL (and, later, Citus),
// through a pgx connection pool.
//
// Patient-scoped tables are hash-partitioned by patient_key (DESIGN.md §3),
// which keeps the schema honest about the sharding rules: PostgreSQL
// rejects a primary key or unique constraint that lacks the partition key.
//
// The pool heals itself: connections broken by a server restart are
// dropped and replaced, so the Store works again as soon as the server
// does, with no restart of carnet.
package postgres

import (
	"context"
	"embed"
	"fmt"
	"io/fs"
	"time"

	"github.com/jackc/pgx/v5/pgxpool"
	"github.com/jackc/pgx/v5/stdlib"
	"github.com/pressly/goose/v3"
	"github.com/pressly/goose/v3/lock"

	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/store/sqlstore"
)

//go:embed migrations/*.sql
var migrationFiles embed.FS

// Migrations returns the migration files of this engine, numbered like
// those of the SQLite engine.
func Migrations() fs.FS {
	sub, err := fs.Sub(migrationFiles, "migrations")
	if err != nil {
		panic(err) // the directory is embedded: cannot happen
	}
	return sub
}

// defaultConnectTimeout bounds each connection attempt when the URL sets
// no connect_timeout, so that a wrong host fails in seconds, not minutes.
const defaultConnectTimeout = 5 * time.Second

// sessionDefaults are the settings of each connection, unless the URL
// sets them.
//
// plan_cache_mode: pgx prepares each statement once per connection, but
// PostgreSQL would still plan it anew on each run. The generic plan of a
// patient's search covers every partition, pruned only when it runs, so
// its estimated cost is several times a custom plan's and PostgreSQL never
// settles on it; planning then took half of a patient's document list
// (`carnet bench` patient-list: 850 requests/s, 1,700 with generic plans).
// Generic plans prune partitions at run time, and carnet's statements
// compare columns with parameters (ranges, not LIKE prefixes) so that an
// index serves them with or without the parameters' values.
var sessionDefaults = map[string]string{
	"application_name": "carnet",
	"plan_cache_mode":  "force_generic_plan",
}

// Store is a PostgreSQL database. It implements store.Store.
type Store struct {
	pool *pgxpool.Pool

	*sqlstore.Resources
}

var _ store.Store = (*Store)(nil)

// Open connects to the database at url (postgres://user:pass@host:port/db,
// or key=value form; pool_max_conns and the other pgxpool parameters are
// honoured) and checks that it answers. Call Migrate before use.
func Open(ctx context.Context, url string) (*Store, error) {
	cfg, err := pgxpool.ParseConfig(url)
	if err != nil {
		return nil, fmt.Errorf("postgres: database URL: %w", err)
	}
	if cfg.ConnConfig.ConnectTimeout == 0 {
		cfg.ConnConfig.ConnectTimeout = defaultConnectTimeout
	}
	for param, value := range sessionDefaults {
		if _, ok := cfg.ConnConfig.RuntimeParams[param]; !ok {
			cfg.ConnConfig.RuntimeParams[param] = value
		}
	}
	pool, err := pgxpool.NewWithConfig(ctx, cfg)
	if err != nil {
		return nil, fmt.Errorf("postgres: %w", err)
	}
	if err := pool.Ping(ctx); err != nil {
		pool.Close()
		return nil, fmt.Errorf("postgres: cannot reach the database %s@%s:%d/%s: %w (is the server up, and the --database URL right?)",
			cfg.ConnConfig.User, cfg.ConnConfig.Host, cfg.ConnConfig.Port, cfg.ConnConfig.Database, err)
	}
	s := &Store{pool: pool}
	s.Resources = sqlstore.New(engine{s})
	return s, nil
}

// Engine returns "postgres".
func (s *Store) Engine() string { return "postgres" }

// Migrate applies the embedded migrations the database lacks. A session
// advisory lock serializes concurrent migrators, so several carnet nodes
// may start at once: the others wait (polling every second, up to ten
// minutes) and then find nothing left to do.
func (s *Store) Migrate(ctx context.Context) error {
	locker, err := lock.NewPostgresSessionLocker(lock.WithLockTimeout(1, 600))
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	p, err := goose.NewProvider(goose.DialectPostgres, stdlib.OpenDBFromPool(s.pool), Migrations(),
		goose.WithSessionLocker(locker),
		goose.WithDisableGlobalRegistry(true))
	if err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	defer p.Close() // closes the database/sql view, not the pool
	if _, err := p.Up(ctx); err != nil {
		return fmt.Errorf("postgres: migrate: %w", err)
	}
	return nil
}

// Ping checks that the server answers. When it does not, every pooled
// connection is dropped: after a server restart they are all dead, and
// the next Ping or query should open fresh ones rather than trip on each
// stale one in turn.
func (s *Store) Ping(ctx context.Context) error {
	if err := s.pool.Ping(ctx); err != nil {
		if ctx.Err() == nil {
			s.pool.Reset()
		}
		return fmt.Errorf("postgres: ping: %w", err)
	}
	return nil
}

// SchemaVersion reads goose's version table; 0 before the first migration.
func (s *Store) SchemaVersion(ctx context.Context) (int64, error) {
	var migrated bool
	err := s.pool.QueryRow(ctx, `SELECT to_regclass('goose_db_version') IS NOT NULL`).Scan(&migrated)
	if err != nil || !migrated {
		return 0, wrap("schema version", err)
	}
	var v int64
	err = s.pool.QueryRow(ctx, `SELECT coalesce(max(version_id), 0) FROM goose_db_version`).Scan(&v)
	return v, wrap("schema version", err)
}

// Analyze refreshes the statistics the query planner chooses indexes by,
// as after a bulk import, without waiting for autovacuum to do it (within a
// minute or so). Until then, a search can pick an index that reads every
// value of a parameter.
func (s *Store) Analyze(ctx context.Context) error {
	_, err := s.pool.Exec(ctx, "ANALYZE")
	return wrap("analyze", err)
}

// Stats reports the pool. Waits counts acquisitions that found no idle
// connection and had to wait for one to be released or opened.
func (s *Store) Stats() store.PoolStats {
	st := s.pool.Stat()
	return store.PoolStats{
		Open:  int(st.TotalConns()),
		InUse: int(st.AcquiredConns()),
		Idle:  int(st.IdleConns()),
		Waits: st.EmptyAcquireCount(),
	}
}

// Close closes every connection, waiting for those in use to be released.
func (s *Store) Close() error {
	s.pool.Close()
	return nil
}

// wrap prefixes an error with the engine and the operation; nil stays nil.
func wrap(op string, err error) error {
	if err == nil {
		return nil
	}
	return fmt.Errorf("postgres: %s: %w", op, err)
}
