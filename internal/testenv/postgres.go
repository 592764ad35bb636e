package testenv

import (
	"context"
	"crypto/rand"
	"errors"
	"fmt"
	"net/url"
	"os"
	"path/filepath"
	"strconv"
	"strings"
	"sync"
	"syscall"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"
	"github.com/jackc/pgx/v5/pgconn"

	"github.com/carnet-sante/carnet/internal/pgtemp"
)

// DatabaseURLEnv names the variable pointing tests at an existing
// PostgreSQL server instead of a throwaway cluster.
const DatabaseURLEnv = "CARNET_TEST_DATABASE_URL"

// shared is the throwaway cluster of this test binary, started on first use
// and never closed: its server gets SIGKILL when the test binary exits (see
// pgtemp), and its directory is removed by a later run (see startCluster).
var shared struct {
	once    sync.Once
	cluster *pgtemp.Cluster
	err     error
}

// PostgresURL returns the URL of a new, empty PostgreSQL database for this
// test, dropped when the test ends (best effort).
//
// With CARNET_TEST_DATABASE_URL set, the database is created on that server
// (a schema in its database if the role lacks CREATEDB). Otherwise one
// throwaway cluster is started per test binary. If neither works, the test
// is skipped, or fails under CI=true.
func PostgresURL(t testing.TB) string {
	t.Helper()
	admin := os.Getenv(DatabaseURLEnv)
	if admin == "" {
		shared.once.Do(startShared)
		if shared.err != nil {
			Unavailable(t, "PostgreSQL", shared.err.Error())
		}
		admin = shared.cluster.URL("postgres")
	}
	dbURL, err := freshDatabase(t, admin)
	if err != nil {
		Unavailable(t, "PostgreSQL", err.Error())
	}
	return dbURL
}

// PostgresCluster starts a throwaway cluster for this test alone, closed
// when the test ends: for tests that stop and restart the server, which
// would break the other tests of the binary if done to the shared one.
func PostgresCluster(t testing.TB) *pgtemp.Cluster {
	t.Helper()
	c, dir, err := startCluster()
	if err != nil {
		Unavailable(t, "PostgreSQL", err.Error())
	}
	t.Cleanup(func() {
		c.Close()
		os.RemoveAll(dir)
	})
	return c
}

func startShared() {
	shared.cluster, _, shared.err = startCluster()
}

// startCluster starts a cluster in a new directory (see clusterParent), and
// returns that directory.
//
// The directory is 0755 so that the postgres OS user can reach the cluster
// (t.TempDir() is 0700), and records the pid of this test binary in a file
// "owner": the shared cluster is never closed (its server dies with the
// binary), so each start first removes the directories of binaries that
// are gone.
func startCluster() (*pgtemp.Cluster, string, error) {
	removeOrphanClusters()
	dir, err := os.MkdirTemp(clusterParent(), clusterDirPrefix)
	if err != nil {
		return nil, "", err
	}
	c, err := func() (*pgtemp.Cluster, error) {
		if err := os.Chmod(dir, 0o755); err != nil {
			return nil, err
		}
		owner := []byte(strconv.Itoa(os.Getpid()))
		if err := os.WriteFile(filepath.Join(dir, "owner"), owner, 0o644); err != nil {
			return nil, err
		}
		return pgtemp.Start(filepath.Join(dir, "cluster"))
	}()
	if err != nil {
		os.RemoveAll(dir)
		return nil, "", err
	}
	return c, dir, nil
}

const (
	clusterDirPrefix = "carnet-pg-"
	shm              = "/dev/shm"
)

// clusterParent returns where throwaway clusters go: /dev/shm when it is a
// roomy tmpfs, else the system's temporary directory. In memory, creating
// a test database takes about 60 ms; on a slow disk, 300 ms or more.
func clusterParent() string {
	var st syscall.Statfs_t
	if err := syscall.Statfs(shm, &st); err == nil && st.Bavail*uint64(st.Bsize) >= 2<<30 {
		return shm
	}
	return os.TempDir()
}

// removeOrphanClusters deletes the cluster directories whose owner process
// has exited. A directory without an owner file yet is being created by
// someone else: it is left alone.
func removeOrphanClusters() {
	var dirs []string
	for _, parent := range []string{shm, os.TempDir()} {
		found, _ := filepath.Glob(filepath.Join(parent, clusterDirPrefix+"*"))
		dirs = append(dirs, found...)
	}
	for _, dir := range dirs {
		b, err := os.ReadFile(filepath.Join(dir, "owner"))
		if err != nil {
			continue
		}
		pid, err := strconv.Atoi(string(b))
		if err != nil || pid <= 0 {
			continue
		}
		if err := syscall.Kill(pid, 0); errors.Is(err, syscall.ESRCH) {
			os.RemoveAll(dir)
		}
	}
}

// freshDatabase creates a database with a unique name on the server of
// admin and returns its URL. A role that may not create databases gets a
// fresh schema in admin's database instead, selected by search_path in the
// URL. Either is dropped when t ends.
func freshDatabase(t testing.TB, admin string) (string, error) {
	u, err := url.Parse(admin)
	if err != nil {
		return "", fmt.Errorf("%s: %w", DatabaseURLEnv, err)
	}
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err != nil {
		return "", fmt.Errorf("connect to %s: %w", u.Redacted(), err)
	}
	defer conn.Close(context.Background())

	name := "carnet_test_" + strings.ToLower(rand.Text()[:10])
	ident := pgx.Identifier{name}.Sanitize()
	_, err = conn.Exec(ctx, "CREATE DATABASE "+ident)
	if err == nil {
		t.Cleanup(func() { dropAfterTest(t, admin, "DROP DATABASE IF EXISTS "+ident+" WITH (FORCE)") })
		u.Path = "/" + name
		return u.String(), nil
	}
	if pgErr := (*pgconn.PgError)(nil); !errors.As(err, &pgErr) || pgErr.Code != "42501" { // insufficient_privilege
		return "", fmt.Errorf("create a test database on %s: %w", u.Redacted(), err)
	}
	if _, err := conn.Exec(ctx, "CREATE SCHEMA "+ident); err != nil {
		return "", fmt.Errorf("%s may create neither databases nor schemas, so tests cannot have one of their own: grant it CREATEDB: %w", u.Redacted(), err)
	}
	t.Cleanup(func() { dropAfterTest(t, admin, "DROP SCHEMA IF EXISTS "+ident+" CASCADE") })
	q := u.Query()
	q.Set("search_path", name)
	u.RawQuery = q.Encode()
	return u.String(), nil
}

// dropAfterTest runs a DROP on the server of admin. Failures are only
// logged: what it drops is garbage, not evidence.
func dropAfterTest(t testing.TB, admin, drop string) {
	ctx, cancel := context.WithTimeout(context.Background(), 30*time.Second)
	defer cancel()
	conn, err := pgx.Connect(ctx, admin)
	if err == nil {
		_, err = conn.Exec(ctx, drop)
		conn.Close(ctx)
	}
	if err != nil {
		t.Logf("%s: %v", drop, err)
	}
}
