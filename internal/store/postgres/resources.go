package postgres

import (
	"context"
	"errors"
	"hash/fnv"
	"slices"
	"strconv"
	"strings"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carnet-sante/carnet/internal/store/sqlstore"
)

// engine gives the shared resource store (sqlstore) the pool.
type engine struct{ s *Store }

func (e engine) Reader() sqlstore.DB { return db{e.s.pool} }

// Begin starts a READ COMMITTED transaction: each statement sees what was
// committed before it started, so a writer that waited for a lock then
// reads the version the previous writer committed.
func (e engine) Begin(ctx context.Context) (sqlstore.Tx, error) {
	t, err := e.s.pool.Begin(ctx)
	if err != nil {
		return nil, err
	}
	return tx{db{t}, t}, nil
}

// pgTypes are the array types Insert sends each kind of column as.
var pgTypes = map[sqlstore.Kind]string{
	sqlstore.Text:  "text[]",
	sqlstore.Int:   "bigint[]",
	sqlstore.Float: "float8[]",
	sqlstore.Bool:  "boolean[]",
	sqlstore.Bytes: "bytea[]",
}

// Insert sends one array per column and unnests them into rows: one
// statement whatever the number of rows, whose text does not change with
// it, so that it is prepared once per connection.
func (engine) Insert(table string, cols []sqlstore.Column, rows []any) []sqlstore.Stmt {
	n := len(rows) / len(cols)
	names := make([]string, len(cols))
	arrays := make([]string, len(cols))
	args := make([]any, len(cols))
	for j, c := range cols {
		names[j] = c.Name
		arrays[j] = "$" + strconv.Itoa(j+1) + "::" + pgTypes[c.Kind]
		switch c.Kind {
		case sqlstore.Text:
			args[j] = column[string](rows, len(cols), j, n)
		case sqlstore.Int:
			args[j] = column[int64](rows, len(cols), j, n)
		case sqlstore.Float:
			args[j] = column[float64](rows, len(cols), j, n)
		case sqlstore.Bool:
			args[j] = column[bool](rows, len(cols), j, n)
		case sqlstore.Bytes:
			args[j] = column[[]byte](rows, len(cols), j, n)
		}
	}
	sql := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ")\n" +
		"SELECT * FROM unnest(" + strings.Join(arrays, ", ") + ")"
	return []sqlstore.Stmt{{SQL: sql, Args: args}}
}

// column gathers column j of n rows of width values each.
func column[T any](rows []any, width, j, n int) []T {
	out := make([]T, n)
	for i := range out {
		out[i] = rows[i*width+j].(T)
	}
	return out
}

// Conflict: a unique violation (two creations under one patient key), a
// deadlock (two transactions locking resources in opposite orders across
// several flushes), a serialization failure.
func (engine) Conflict(err error) bool {
	var e *pgconn.PgError
	if !errors.As(err, &e) {
		return false
	}
	switch e.Code {
	case "23505", "40P01", "40001":
		return true
	}
	return false
}

// conn is what the pool and a transaction share.
type conn interface {
	Query(ctx context.Context, sql string, args ...any) (pgx.Rows, error)
	SendBatch(ctx context.Context, b *pgx.Batch) pgx.BatchResults
}

// db is the pool or a transaction, as sqlstore.DB.
type db struct{ c conn }

func (d db) Query(ctx context.Context, sql string, args ...any) (sqlstore.Rows, error) {
	return d.c.Query(ctx, sql, args...)
}

// Exec sends the statements in one batch: one round trip.
func (d db) Exec(ctx context.Context, stmts ...sqlstore.Stmt) ([]int64, error) {
	b := &pgx.Batch{}
	for _, s := range stmts {
		b.Queue(s.SQL, s.Args...)
	}
	br := d.c.SendBatch(ctx, b)
	affected := make([]int64, len(stmts))
	for i := range stmts {
		tag, err := br.Exec()
		if err != nil {
			br.Close()
			return nil, err
		}
		affected[i] = tag.RowsAffected()
	}
	return affected, br.Close()
}

// tx is a write transaction.
type tx struct {
	db
	t pgx.Tx
}

// Lock takes a transaction-scoped advisory lock per resource, keyed by a
// 64-bit hash of "Type/id" (a collision only makes two writers take
// turns), in ascending order, so that two transactions locking in one
// statement cannot deadlock. On Citus the coordinator holds them.
func (t tx) Lock(ctx context.Context, keys []string) error {
	ids := make([]int64, len(keys))
	for i, k := range keys {
		h := fnv.New64a()
		h.Write([]byte(k))
		ids[i] = int64(h.Sum64())
	}
	slices.Sort(ids)
	_, err := t.t.Exec(ctx, `SELECT pg_advisory_xact_lock(k) FROM unnest($1::bigint[]) AS k`, slices.Compact(ids))
	return err
}

func (t tx) Commit(ctx context.Context) error   { return t.t.Commit(ctx) }
func (t tx) Rollback(ctx context.Context) error { return t.t.Rollback(ctx) }
