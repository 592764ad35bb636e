package postgres_test

import (
	"context"
	"net"
	"net/url"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/jackc/pgx/v5"

	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/store/postgres"
	"github.com/carnet-sante/carnet/internal/store/storetest"
	"github.com/carnet-sante/carnet/internal/testenv"
)

var harness = storetest.Harness{
	NewDatabase: func(t testing.TB) string { return testenv.PostgresURL(t) },
	Open: func(ctx context.Context, url string) (store.Store, error) {
		return postgres.Open(ctx, url)
	},
	Migrations: postgres.Migrations(),
}

func TestConformance(t *testing.T) {
	storetest.Run(t, harness)
}

// BenchmarkResources: go test -run ^$ -bench Resources ./internal/store/postgres
func BenchmarkResources(b *testing.B) {
	storetest.Bench(b, harness)
}

// TestConformanceInSchema runs the suite as a role that may not create
// databases: each test then gets a schema of its own, selected by
// search_path in the URL. It holds the engine to work outside the public
// schema, and testenv's fallback for such roles to work.
func TestConformanceInSchema(t *testing.T) {
	ctx := t.Context()
	cluster := testenv.PostgresCluster(t)
	dbURL, err := cluster.CreateDatabase(ctx, "shared")
	if err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(ctx, dbURL)
	if err != nil {
		t.Fatal(err)
	}
	_, err = conn.Exec(ctx, `
		CREATE ROLE limited LOGIN NOCREATEDB;
		GRANT CREATE ON DATABASE shared TO limited`)
	conn.Close(ctx)
	if err != nil {
		t.Fatal(err)
	}
	u, err := url.Parse(dbURL)
	if err != nil {
		t.Fatal(err)
	}
	u.User = url.User("limited")
	t.Setenv(testenv.DatabaseURLEnv, u.String())
	storetest.Run(t, harness)
}

// TestPatientTablesArePartitioned enforces the sharding rule on the
// migrated schema: every table with a patient_key column is hash-partitioned
// on it, hence its primary key and unique constraints include it.
func TestPatientTablesArePartitioned(t *testing.T) {
	url := testenv.PostgresURL(t)
	s, err := postgres.Open(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatal(err)
	}
	conn, err := pgx.Connect(t.Context(), url)
	if err != nil {
		t.Fatal(err)
	}
	defer conn.Close(context.Background())

	rows, err := conn.Query(t.Context(), `
		SELECT c.relname,
		       coalesce(pt.partstrat::text, ''),
		       coalesce(pg_get_partkeydef(c.oid), ''),
		       (SELECT count(*) FROM pg_inherits i WHERE i.inhparent = c.oid)
		FROM pg_class c
		JOIN pg_namespace n ON n.oid = c.relnamespace
		JOIN pg_attribute a ON a.attrelid = c.oid AND a.attname = 'patient_key' AND NOT a.attisdropped
		LEFT JOIN pg_partitioned_table pt ON pt.partrelid = c.oid
		WHERE n.nspname = current_schema()
		  AND c.relkind IN ('r', 'p')
		  AND NOT c.relispartition
		ORDER BY c.relname`)
	if err != nil {
		t.Fatal(err)
	}
	var tables []string
	for rows.Next() {
		var name, strategy, key string
		var partitions int
		if err := rows.Scan(&name, &strategy, &key, &partitions); err != nil {
			t.Fatal(err)
		}
		tables = append(tables, name)
		if strategy != "h" || key != "HASH (patient_key)" || partitions == 0 {
			t.Errorf("table %s: partitioning %q with %d partitions; want HASH (patient_key)", name, key, partitions)
		}
	}
	if err := rows.Err(); err != nil {
		t.Fatal(err)
	}
	if len(tables) == 0 {
		t.Fatal("no table has a patient_key column: is the schema migrated?")
	}
	t.Logf("patient-scoped tables: %v", tables)
}

// TestOpenFailsFast checks that a database that cannot be reached makes
// Open fail quickly, with a message that says where it tried.
func TestOpenFailsFast(t *testing.T) {
	silent, err := net.Listen("tcp", "127.0.0.1:0") // accepts, never answers
	if err != nil {
		t.Fatal(err)
	}
	defer silent.Close()
	go func() {
		for {
			c, err := silent.Accept()
			if err != nil {
				return
			}
			defer c.Close()
		}
	}()
	refused, err := net.Listen("tcp", "127.0.0.1:0")
	if err != nil {
		t.Fatal(err)
	}
	refusedAddr := refused.Addr().String()
	refused.Close() // nothing listens there any more

	for _, tc := range []struct {
		name, url string
	}{
		{"connection refused", "postgres://carnet@" + refusedAddr + "/carnet"},
		{"server silent, connect_timeout in URL", "postgres://carnet@" + silent.Addr().String() + "/carnet?connect_timeout=1"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			began := time.Now()
			s, err := postgres.Open(t.Context(), tc.url)
			if err == nil {
				s.Close()
				t.Fatal("Open succeeded")
			}
			if d := time.Since(began); d > 3*time.Second {
				t.Errorf("Open took %v to fail", d)
			}
			if !strings.Contains(err.Error(), "cannot reach the database") {
				t.Errorf("error does not say what went wrong: %v", err)
			}
			t.Logf("error, as expected: %v", err)
		})
	}
}

func TestOpenRejectsBadURL(t *testing.T) {
	_, err := postgres.Open(t.Context(), "postgres://host:notaport/db")
	if err == nil || !strings.Contains(err.Error(), "database URL") {
		t.Errorf("Open(bad URL) = %v; want a database URL error", err)
	}
}

// TestRecoversAfterServerRestart stops the server under an open Store: Ping
// and queries must fail while it is down, and work again once it is back,
// without reopening the Store.
func TestRecoversAfterServerRestart(t *testing.T) {
	ctx := t.Context()
	cluster := testenv.PostgresCluster(t)
	url, err := cluster.CreateDatabase(ctx, "restart")
	if err != nil {
		t.Fatal(err)
	}
	s, err := postgres.Open(ctx, url)
	if err != nil {
		t.Fatal(err)
	}
	defer s.Close()
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	patient := storetest.NewPatientKey()
	if _, err := s.CreateWrappedKey(ctx, patient, []byte("key")); err != nil {
		t.Fatal(err)
	}
	// Fill the pool, so that it holds several connections to break.
	readAll := func() []error {
		errs := make([]error, 8)
		var wg sync.WaitGroup
		for i := range errs {
			wg.Go(func() { _, errs[i] = s.WrappedKey(ctx, patient) })
		}
		wg.Wait()
		return errs
	}
	readAll()
	t.Logf("%d connections in the pool", s.Stats().Open)

	if err := cluster.Stop(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err == nil {
		t.Fatal("Ping succeeded while the server was down")
	}

	if err := cluster.Start(); err != nil {
		t.Fatal(err)
	}
	if err := s.Ping(ctx); err != nil {
		t.Fatalf("first Ping after the restart: %v", err)
	}
	for i, err := range readAll() {
		if err != nil {
			t.Errorf("read %d after the restart: %v", i, err)
		}
	}
}

// TestMigrateConcurrently starts several nodes on one new database at once,
// as a deployment does: the advisory lock lets one migrate, and the others
// find the work done.
func TestMigrateConcurrently(t *testing.T) {
	url := testenv.PostgresURL(t)
	const nodes = 4
	errs := make([]error, nodes)
	var wg sync.WaitGroup
	for i := range nodes {
		wg.Go(func() {
			s, err := postgres.Open(t.Context(), url)
			if err != nil {
				errs[i] = err
				return
			}
			defer s.Close()
			errs[i] = s.Migrate(t.Context())
		})
	}
	wg.Wait()
	for i, err := range errs {
		if err != nil {
			t.Errorf("node %d: %v", i, err)
		}
	}
}

// TestSessionDefaults: each connection plans with generic plans and names
// itself, unless the URL says otherwise.
func TestSessionDefaults(t *testing.T) {
	base := testenv.PostgresURL(t)
	withParam := func(name, value string) string {
		u, err := url.Parse(base)
		if err != nil {
			t.Fatal(err)
		}
		q := u.Query()
		q.Set(name, value)
		u.RawQuery = q.Encode()
		return u.String()
	}
	for _, tc := range []struct {
		name, url, setting, want string
	}{
		{"generic plans by default", base, "plan_cache_mode", "force_generic_plan"},
		{"plan mode from the URL", withParam("plan_cache_mode", "auto"), "plan_cache_mode", "auto"},
		{"application name by default", base, "application_name", "carnet"},
		{"application name from the URL", withParam("application_name", "carnet-node-2"), "application_name", "carnet-node-2"},
	} {
		t.Run(tc.name, func(t *testing.T) {
			s, err := postgres.Open(t.Context(), tc.url)
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			got, err := postgres.Setting(t.Context(), s, tc.setting)
			if err != nil {
				t.Fatal(err)
			}
			if got != tc.want {
				t.Errorf("%s = %q, want %q", tc.setting, got, tc.want)
			}
		})
	}
}
