package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"strconv"
	"strings"
	"sync"

	msqlite "modernc.org/sqlite"
	sqlite3 "modernc.org/sqlite/lib"

	"github.com/carnet-sante/carnet/internal/store/sqlstore"
)

// maxArgs bounds the arguments of one statement, under SQLite's limit of
// 32766.
const maxArgs = 32000

// engine gives the shared resource store (sqlstore) the Store's
// connections: reads on the read pool, writes on the one writer, whose
// transactions begin IMMEDIATE (see Open) and so take turns.
type engine struct{ s *Store }

// GroupCommit: the one writer runs one transaction at a time, so the
// store commits the Updates waiting together (sqlstore.Grouped).
func (engine) GroupCommit() bool { return true }

func (e engine) Reader() sqlstore.DB { return db{c: e.s.reader, stmts: e.s.readerStmts} }

func (e engine) Begin(ctx context.Context) (sqlstore.Tx, error) {
	e.s.writerStmts.preparePending(ctx)
	t, err := e.s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, err
	}
	open := &openStmts{m: map[*sql.Stmt]bool{}}
	return tx{db{c: t, stmts: e.s.writerStmts, tx: t, open: open}, t, e.s.ckpt}, nil
}

// Insert uses multi-row INSERT … VALUES, with at most maxArgs arguments
// per statement.
func (engine) Insert(table string, cols []sqlstore.Column, rows []any) []sqlstore.Stmt {
	names := make([]string, len(cols))
	for i, c := range cols {
		names[i] = c.Name
	}
	head := "INSERT INTO " + table + " (" + strings.Join(names, ", ") + ") VALUES "
	row := "(?" + strings.Repeat(", ?", len(cols)-1) + ")"
	perStmt := max(1, maxArgs/len(cols)) * len(cols)
	var stmts []sqlstore.Stmt
	for start := 0; start < len(rows); start += perStmt {
		args := rows[start:min(start+perStmt, len(rows))]
		n := len(args) / len(cols)
		var sql strings.Builder
		sql.Grow(len(head) + n*(len(row)+2))
		sql.WriteString(head)
		for i := range n {
			if i > 0 {
				sql.WriteString(", ")
			}
			sql.WriteString(row)
		}
		stmts = append(stmts, sqlstore.Stmt{SQL: sql.String(), Args: args})
	}
	return stmts
}

// Conflict: with one writer, only a primary key violation can mean that
// two writes collided.
func (engine) Conflict(err error) bool {
	var e *msqlite.Error
	return errors.As(err, &e) && (e.Code() == sqlite3.SQLITE_CONSTRAINT_PRIMARYKEY || e.Code() == sqlite3.SQLITE_CONSTRAINT_UNIQUE)
}

// conn is what *sql.DB and *sql.Tx share.
type conn interface {
	QueryContext(ctx context.Context, query string, args ...any) (*sql.Rows, error)
	ExecContext(ctx context.Context, query string, args ...any) (sql.Result, error)
}

// db is the read pool or a write transaction, as sqlstore.DB, with the
// prepared statements of its pool.
type db struct {
	c     conn
	stmts *stmtCache
	tx    *sql.Tx    // nil on the read pool
	open  *openStmts // in a transaction: statements whose rows are open
}

func (d db) Query(ctx context.Context, query string, args ...any) (sqlstore.Rows, error) {
	query, args = positional(query, args)
	if d.tx == nil {
		if st := d.stmts.prepare(ctx, query); st != nil {
			return wrapRows(st.QueryContext(ctx, args...))
		}
		return wrapRows(d.c.QueryContext(ctx, query, args...))
	}
	st := d.txStmt(query)
	if st == nil {
		return wrapRows(d.tx.QueryContext(ctx, query, args...))
	}
	r, err := d.tx.StmtContext(ctx, st).QueryContext(ctx, args...)
	if err != nil {
		d.open.release(st)
		return nil, err
	}
	return rows{r, func() { d.open.release(st) }}, nil
}

// openStmts are the statements of a transaction whose rows are open. The
// transaction's one connection has one SQLite statement per prepared
// statement: the same query run again before its rows are closed must be
// prepared anew.
type openStmts struct {
	mu sync.Mutex
	m  map[*sql.Stmt]bool
}

func (o *openStmts) take(st *sql.Stmt) bool {
	o.mu.Lock()
	defer o.mu.Unlock()
	if o.m[st] {
		return false
	}
	o.m[st] = true
	return true
}

func (o *openStmts) release(st *sql.Stmt) {
	o.mu.Lock()
	delete(o.m, st)
	o.mu.Unlock()
}

// Exec runs the statements one after the other: in-process, there is no
// round trip to save.
func (d db) Exec(ctx context.Context, stmts ...sqlstore.Stmt) ([]int64, error) {
	affected := make([]int64, len(stmts))
	for i, s := range stmts {
		query, args := positional(s.SQL, s.Args)
		var res sql.Result
		var err error
		if st := d.txStmt(query); st != nil {
			res, err = d.tx.StmtContext(ctx, st).ExecContext(ctx, args...)
			d.open.release(st)
		} else {
			res, err = d.c.ExecContext(ctx, query, args...)
		}
		if err != nil {
			return nil, err
		}
		if affected[i], err = res.RowsAffected(); err != nil {
			return nil, err
		}
	}
	return affected, nil
}

// positional rewrites the $n placeholders of a statement to anonymous ?,
// with the arguments in the order the placeholders appear (repeated where
// one appears several times). SQLite can bind $n, but looks each one up
// by name in a list: binding is then quadratic in their number, seconds
// for a multi-row statement. The shared SQL has no '$' in its literals.
func positional(query string, args []any) (string, []any) {
	i := strings.IndexByte(query, '$')
	if i < 0 {
		return query, args
	}
	var b strings.Builder
	b.Grow(len(query))
	ordered := make([]any, 0, len(args))
	for ; i >= 0; i = strings.IndexByte(query, '$') {
		j := i + 1
		for j < len(query) && query[j] >= '0' && query[j] <= '9' {
			j++
		}
		n, _ := strconv.Atoi(query[i+1 : j])
		b.WriteString(query[:i])
		b.WriteByte('?')
		ordered = append(ordered, args[n-1])
		query = query[j:]
	}
	b.WriteString(query)
	return b.String(), ordered
}

// txStmt takes the prepared statement of query in a transaction, to be
// released once done with; nil outside a transaction, before the
// statement is prepared, or while it is taken.
func (d db) txStmt(query string) *sql.Stmt {
	if d.tx == nil {
		return nil
	}
	if st := d.stmts.lookup(query, true); st != nil && d.open.take(st) {
		return st
	}
	return nil
}

type rows struct {
	*sql.Rows
	closed func() // or nil
}

func wrapRows(r *sql.Rows, err error) (sqlstore.Rows, error) {
	if err != nil {
		return nil, err
	}
	return rows{Rows: r}, nil
}

func (r rows) Close() {
	r.Rows.Close()
	if r.closed != nil {
		r.closed()
	}
}

// tx is a write transaction on the writer.
type tx struct {
	db
	t    *sql.Tx
	ckpt *checkpointer
}

// Lock has nothing to do: write transactions take turns on the one writer
// connection, and BEGIN IMMEDIATE keeps other processes out.
func (tx) Lock(context.Context, []string) error { return nil }

func (t tx) Commit(context.Context) error {
	if err := t.t.Commit(); err != nil {
		return err
	}
	t.ckpt.wrote()
	return nil
}

func (t tx) Rollback(context.Context) error { return t.t.Rollback() }
