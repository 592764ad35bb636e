package sqlite

import (
	"container/list"
	"context"
	"database/sql"
	"sync"
)

// Prepared statements are kept by SQL text: SQLite parses and plans a
// statement each time it is prepared, and that was a tenth of a deposit's
// CPU. database/sql keeps a *sql.Stmt prepared on each connection that
// has run it.
const (
	maxStmts = 512 // per pool, the least recently used closed beyond
	// Longer statements, the multi-row inserts of large transactions,
	// rarely recur: kept, they cost 15–40 MB at `carnet bench` synthea's
	// peak, for nothing.
	maxStmtLen = 4 * 1024
)

// stmtCache holds the prepared statements of one pool.
//
// The writer pool has one connection, held by the transaction that runs
// the statements: preparing on the pool then would wait for that
// connection forever. So a statement a transaction runs unprepared waits
// in pending until the next Begin prepares it, while the connection is
// free; Tx.StmtContext then reuses what the pool prepared on it.
type stmtCache struct {
	pool    *sql.DB
	mu      sync.Mutex
	lru     *list.List               // of *kept, most recently used first
	byQuery map[string]*list.Element // SQL → element of lru
	pending map[string]bool          // SQL run unprepared in a transaction
}

func newStmtCache(pool *sql.DB) *stmtCache {
	return &stmtCache{pool: pool, lru: list.New(), byQuery: map[string]*list.Element{}, pending: map[string]bool{}}
}

// lookup returns the statement prepared for query, or nil; with wait, a
// statement not kept yet is noted for preparePending.
func (c *stmtCache) lookup(query string, wait bool) *sql.Stmt {
	if len(query) > maxStmtLen {
		return nil
	}
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byQuery[query]; ok {
		c.lru.MoveToFront(e)
		return e.Value.(*kept).st
	}
	if wait && len(c.pending) < maxStmts {
		c.pending[query] = true
	}
	return nil
}

// prepare returns the statement prepared for query, preparing it on the
// pool if needed (which takes a free connection of the pool), or nil when
// it is not to be kept or fails to prepare: the caller then runs query
// unprepared, which reports the error.
func (c *stmtCache) prepare(ctx context.Context, query string) *sql.Stmt {
	if st := c.lookup(query, false); st != nil || len(query) > maxStmtLen {
		return st
	}
	st, err := c.pool.PrepareContext(ctx, query)
	if err != nil {
		return nil
	}
	return c.keep(query, st)
}

// preparePending prepares the statements transactions ran unprepared. The
// caller must not hold a connection of the pool.
func (c *stmtCache) preparePending(ctx context.Context) {
	c.mu.Lock()
	queries := make([]string, 0, len(c.pending))
	for q := range c.pending {
		queries = append(queries, q)
	}
	clear(c.pending)
	c.mu.Unlock()
	for _, q := range queries {
		c.prepare(ctx, q)
	}
}

// keep adds st, unless another caller kept a statement for query first,
// and closes the least recently used beyond maxStmts. Closing happens
// aside: database/sql waits for the statement's open rows, which may
// belong to the caller.
func (c *stmtCache) keep(query string, st *sql.Stmt) *sql.Stmt {
	c.mu.Lock()
	defer c.mu.Unlock()
	if e, ok := c.byQuery[query]; ok {
		go st.Close()
		c.lru.MoveToFront(e)
		return e.Value.(*kept).st
	}
	c.byQuery[query] = c.lru.PushFront(&kept{query, st})
	for c.lru.Len() > maxStmts {
		old := c.lru.Remove(c.lru.Back()).(*kept)
		delete(c.byQuery, old.query)
		go old.st.Close()
	}
	return st
}

type kept struct {
	query string
	st    *sql.Stmt
}
