package pgtemp_test

import (
	"context"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carnet-sante/carnet/internal/pgtemp"
	"github.com/carnet-sante/carnet/internal/testenv"
)

// TestCluster walks a cluster through its life: start, create a database,
// stop, start again on the same port with the data and settings kept,
// close.
func TestCluster(t *testing.T) {
	parent, err := os.MkdirTemp("", "carnet-pgtemp-test-")
	if err != nil {
		t.Fatal(err)
	}
	t.Cleanup(func() { os.RemoveAll(parent) })
	if err := os.Chmod(parent, 0o755); err != nil {
		t.Fatal(err)
	}
	dir := filepath.Join(parent, "cluster")

	began := time.Now()
	c, err := pgtemp.StartWith(dir, pgtemp.Options{Settings: map[string]string{"autovacuum_naptime": "7s"}})
	if err != nil {
		testenv.Unavailable(t, "PostgreSQL", err.Error())
	}
	t.Logf("cluster started in %v", time.Since(began))
	t.Cleanup(func() { c.Close() })

	ctx := context.Background()
	url, err := c.CreateDatabase(ctx, "life")
	if err != nil {
		t.Fatal(err)
	}
	if url != c.URL("life") {
		t.Errorf("CreateDatabase returned %q, want URL(\"life\") = %q", url, c.URL("life"))
	}
	exec(t, url, "CREATE TABLE kept (n int); INSERT INTO kept VALUES (42)")

	if err := c.Stop(); err != nil {
		t.Fatal(err)
	}
	if conn, err := pgx.Connect(ctx, url); err == nil {
		conn.Close(ctx)
		t.Fatal("connected to a stopped cluster")
	}
	if err := c.Stop(); err != nil {
		t.Errorf("second Stop: %v", err)
	}

	if err := c.Start(); err != nil {
		t.Fatal(err)
	}
	if url != c.URL("life") {
		t.Errorf("URL changed across restart: %q, then %q", url, c.URL("life"))
	}
	var n int
	conn := connect(t, url)
	if err := conn.QueryRow(ctx, "SELECT n FROM kept").Scan(&n); err != nil || n != 42 {
		t.Errorf("after restart, SELECT n = %d, %v; want 42", n, err)
	}
	var naptime string
	if err := conn.QueryRow(ctx, "SHOW autovacuum_naptime").Scan(&naptime); err != nil || naptime != "7s" {
		t.Errorf("after restart, autovacuum_naptime = %q, %v; want 7s", naptime, err)
	}
	conn.Close(ctx)

	if err := c.Close(); err != nil {
		t.Fatal(err)
	}
	if _, err := os.Stat(dir); !os.IsNotExist(err) {
		t.Errorf("Close left %s behind (stat: %v)", dir, err)
	}
}

func TestStartRefusesUnreachableDir(t *testing.T) {
	if os.Geteuid() != 0 {
		t.Skip("only root hands the cluster to the postgres user")
	}
	parent := t.TempDir() // 0700: the postgres user cannot traverse it
	_, err := pgtemp.Start(filepath.Join(parent, "cluster"))
	if err == nil {
		t.Fatal("Start succeeded under a 0700 directory")
	}
	if !strings.Contains(err.Error(), "cannot traverse") {
		t.Errorf("error does not say the directory cannot be traversed: %v", err)
	}
}

func connect(t *testing.T, url string) *pgx.Conn {
	t.Helper()
	conn, err := pgx.Connect(context.Background(), url)
	if err != nil {
		t.Fatal(err)
	}
	return conn
}

func exec(t *testing.T, url, sql string) {
	t.Helper()
	conn := connect(t, url)
	defer conn.Close(context.Background())
	if _, err := conn.Exec(context.Background(), sql); err != nil {
		t.Fatal(err)
	}
}
