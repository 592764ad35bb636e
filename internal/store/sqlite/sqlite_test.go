package sqlite

import (
	"context"
	"fmt"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/store/storetest"
)

var harness = storetest.Harness{
	NewDatabase: func(t testing.TB) string { return filepath.Join(t.TempDir(), "carnet.db") },
	Open: func(ctx context.Context, path string) (store.Store, error) {
		return Open(ctx, path)
	},
	Migrations: Migrations(),
}

func TestConformance(t *testing.T) {
	storetest.Run(t, harness)
}

// BenchmarkResources: go test -run ^$ -bench Resources ./internal/store/sqlite
func BenchmarkResources(b *testing.B) {
	storetest.Bench(b, harness)
}

// TestPragmas checks the settings durability and concurrency rest on.
func TestPragmas(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "carnet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	for _, tc := range []struct {
		pool   string
		pragma string
		want   string
	}{
		{"writer", "journal_mode", "wal"},
		{"writer", "synchronous", "2"}, // FULL
		{"writer", "foreign_keys", "1"},
		{"writer", "secure_delete", "1"},
		{"writer", "busy_timeout", busyTimeoutMillis},
		{"writer", "query_only", "0"},
		{"writer", "wal_autocheckpoint", writerCheckpointPages}, // the checkpointer does it
		{"writer", "temp_store", "2"},                           // MEMORY
		{"writer", "cache_size", writerCacheKiB},
		{"reader", "temp_store", "2"},
		{"reader", "cache_size", readerCacheKiB},
		{"reader", "journal_mode", "wal"},
		{"reader", "foreign_keys", "1"},
		{"reader", "busy_timeout", busyTimeoutMillis},
		{"reader", "query_only", "1"},
	} {
		db := s.writer
		if tc.pool == "reader" {
			db = s.reader
		}
		var got string
		if err := db.QueryRowContext(t.Context(), "PRAGMA "+tc.pragma).Scan(&got); err != nil {
			t.Fatalf("%s: PRAGMA %s: %v", tc.pool, tc.pragma, err)
		}
		if got != tc.want {
			t.Errorf("%s: PRAGMA %s = %s, want %s", tc.pool, tc.pragma, got, tc.want)
		}
	}
	if got := s.writer.Stats().MaxOpenConnections; got != 1 {
		t.Errorf("writer allows %d connections, want 1", got)
	}
}

// TestCheckpointer checks that committed writes reach the database file
// while the store stays open, though the writer no longer checkpoints
// before the WAL holds writerCheckpointPages.
func TestCheckpointer(t *testing.T) {
	ctx := t.Context()
	path := filepath.Join(t.TempDir(), "carnet.db")
	s, err := Open(ctx, path)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	before := fileSize(t, path)
	for i := range 20 {
		err := s.Update(ctx, func(tx store.ResourceTx) error {
			for j := range 100 {
				content := fmt.Sprintf(`{"resourceType":"Basic","id":"b%d-%d","text":%q}`, i, j, strings.Repeat("x", 1000))
				w := store.Write{
					Resource: store.Resource{Type: "Basic", ID: fmt.Sprintf("b%d-%d", i, j), Version: 1,
						LastUpdated: time.Now(), Content: []byte(content)},
				}
				if err := tx.Write(ctx, w); err != nil {
					return err
				}
			}
			return nil
		})
		if err != nil {
			t.Fatal(err)
		}
	}
	// 2,000 resources of 1 KB: about 500 pages, far under the writer's own
	// threshold. Only the checkpointer can have copied them.
	deadline := time.Now().Add(30 * time.Second)
	for fileSize(t, path) < before+1_000_000 {
		if time.Now().After(deadline) {
			t.Fatalf("the database file is %d bytes after 2 MB of writes (%d before): the WAL was not checkpointed", fileSize(t, path), before)
		}
		time.Sleep(50 * time.Millisecond)
	}
}

func fileSize(t *testing.T, path string) int64 {
	t.Helper()
	st, err := os.Stat(path)
	if err != nil {
		t.Fatal(err)
	}
	return st.Size()
}

// TestReaderCannotWrite guards the split: a write sent to the read pool
// must fail rather than compete with the writer for the lock.
func TestReaderCannotWrite(t *testing.T) {
	s, err := Open(t.Context(), filepath.Join(t.TempDir(), "carnet.db"))
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if _, err := s.reader.ExecContext(t.Context(), "CREATE TABLE t (x)"); err == nil {
		t.Error("the read pool accepted a write")
	}
}

// TestOddPaths opens databases whose paths hold characters that mean
// something in a URI.
func TestOddPaths(t *testing.T) {
	for _, name := range []string{
		"with space.db",
		"question?mark.db",
		"hash#mark.db",
		"percent%20.db",
		"ampersand&_txlock=deferred.db",
		"new/sub/dir/carnet.db",
	} {
		path := filepath.Join(t.TempDir(), name)
		s, err := Open(t.Context(), path)
		if err != nil {
			t.Errorf("Open(%q): %v", name, err)
			continue
		}
		err = s.Migrate(t.Context())
		s.Close()
		if err != nil {
			t.Errorf("Migrate in %q: %v", name, err)
		}
		if _, err := os.Stat(path); err != nil {
			t.Errorf("Open(%q) did not create that file: %v", name, err)
		}
	}
}

func TestOpenErrorSaysWhat(t *testing.T) {
	dir := t.TempDir() // a directory is not a database file
	_, err := Open(t.Context(), dir)
	if err == nil {
		t.Fatal("opened a directory as a database")
	}
	if !strings.Contains(err.Error(), dir) {
		t.Errorf("error does not name the path: %v", err)
	}
}
