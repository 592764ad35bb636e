package sqlite

import (
	"fmt"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/store/sqlstore"
)

// TestPreparedInTransaction: a statement a transaction runs is prepared
// for the next ones, and a query run again while its rows are still open
// reads its own rows, not a reset of the first.
func TestPreparedInTransaction(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "carnet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	e := engine{s}
	const query = "SELECT x FROM t WHERE x > ? ORDER BY x"

	run := func(f func(tx sqlstore.Tx)) {
		t.Helper()
		tx, err := e.Begin(t.Context())
		if err != nil {
			t.Fatal(err)
		}
		f(tx)
		if err := tx.Commit(t.Context()); err != nil {
			t.Fatal(err)
		}
	}
	run(func(tx sqlstore.Tx) {
		if _, err := tx.Exec(t.Context(),
			sqlstore.Stmt{SQL: "CREATE TABLE t (x INTEGER)"},
			sqlstore.Stmt{SQL: "INSERT INTO t VALUES (1), (2), (3)"}); err != nil {
			t.Fatal(err)
		}
		readAll(t, tx, query)
	})
	run(func(tx sqlstore.Tx) {
		if s.writerStmts.lookup(query, false) == nil {
			t.Fatalf("%q, run in the previous transaction, is not prepared", query)
		}
		outer, err := tx.Query(t.Context(), query, 0)
		if err != nil {
			t.Fatal(err)
		}
		defer outer.Close()
		var got []int
		for outer.Next() {
			var x int
			if err := outer.Scan(&x); err != nil {
				t.Fatal(err)
			}
			got = append(got, x)
			if inner := readAll(t, tx, query); !slices.Equal(inner, []int{1, 2, 3}) {
				t.Errorf("inner query read %v, want [1 2 3]", inner)
			}
		}
		if err := outer.Err(); err != nil {
			t.Fatal(err)
		}
		if !slices.Equal(got, []int{1, 2, 3}) {
			t.Errorf("outer query read %v, want [1 2 3]", got)
		}
	})
}

func readAll(t *testing.T, db sqlstore.DB, query string) []int {
	t.Helper()
	r, err := db.Query(t.Context(), query, 0)
	if err != nil {
		t.Fatal(err)
	}
	defer r.Close()
	var xs []int
	for r.Next() {
		var x int
		if err := r.Scan(&x); err != nil {
			t.Fatal(err)
		}
		xs = append(xs, x)
	}
	if err := r.Err(); err != nil {
		t.Fatal(err)
	}
	return xs
}

// TestStmtCacheBounds: the read pool keeps at most maxStmts statements,
// dropping the least recently used, and never a bulk statement.
func TestStmtCacheBounds(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "carnet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	c := s.readerStmts
	query := func(i int) string { return fmt.Sprintf("SELECT %d", i) }
	for i := range maxStmts + 1 {
		if c.prepare(t.Context(), query(i)) == nil {
			t.Fatalf("%q not prepared", query(i))
		}
		if i == 0 {
			continue
		}
		c.prepare(t.Context(), query(0)) // the oldest, used again
	}
	long := "SELECT 1" + strings.Repeat(" ", maxStmtLen)
	if c.prepare(t.Context(), long) != nil {
		t.Errorf("a statement of %d bytes is kept", len(long))
	}
	for _, tc := range []struct {
		query string
		kept  bool
	}{
		{query(0), true},
		{query(1), false}, // the least recently used
		{query(maxStmts), true},
		{long, false},
	} {
		if kept := c.lookup(tc.query, false) != nil; kept != tc.kept {
			t.Errorf("%.20q kept: %v, want %v", tc.query, kept, tc.kept)
		}
	}
	if n := c.lru.Len(); n != maxStmts {
		t.Errorf("%d statements kept, want %d", n, maxStmts)
	}
}
