package main_test

import (
	"encoding/json"
	"net/http"
	"os"
	"path/filepath"
	"strings"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/clitest"
	"github.com/carnet-sante/carnet/internal/testenv"
)

// TestServeEmbedded is the README's first run: SQLite and files, no setup.
func TestServeEmbedded(t *testing.T) {
	data := t.TempDir()
	srv := clitest.Serve(t, nil, "--data", data, "--demo")

	for _, path := range []string{"/healthz", "/readyz"} {
		if code, body := srv.Get(t, path); code != http.StatusOK {
			t.Errorf("GET %s = %d %s, want 200", path, code, body)
		}
	}
	_, metrics := srv.Get(t, "/metrics")
	for _, want := range []string{
		`carnet_http_requests_total{method="GET",route="GET /healthz",status="200"} 1`,
		"carnet_http_request_duration_seconds_bucket",
		"carnet_db_pool_open_connections",
		"go_goroutines",
	} {
		if !strings.Contains(metrics, want) {
			t.Errorf("/metrics lacks %q", want)
		}
	}
	srv.Stop(t)
	if !strings.Contains(srv.Stderr(), `"request_id"`) {
		t.Errorf("request logs carry no request id:\n%s", srv.Stderr())
	}
	for _, f := range []string{"carnet.db", "master.key", "blobs"} {
		if _, err := os.Stat(filepath.Join(data, f)); err != nil {
			t.Errorf("data dir lacks %s", f)
		}
	}
}

// TestReadinessFollowsDependencies runs carnet on PostgreSQL and S3, stops
// each in turn and checks that /readyz says so and recovers by itself.
func TestReadinessFollowsDependencies(t *testing.T) {
	pg := testenv.PostgresCluster(t)
	s3 := testenv.NewS3Server(t)
	env := []string{"AWS_ACCESS_KEY_ID=" + s3.AccessKey, "AWS_SECRET_ACCESS_KEY=" + s3.SecretKey}
	srv := clitest.Serve(t, env,
		"--data", t.TempDir(),
		"--database", pg.URL("postgres"),
		"--blobs", s3.URL("carnet-test"),
		"--master-key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	srv.WaitStatus(t, "/readyz", http.StatusOK, 10*time.Second)

	outages := []struct {
		dependency  string
		stop, start func() error
	}{
		{"database", pg.Stop, pg.Start},
		{"blobs", s3.Stop, s3.Start},
	}
	for _, o := range outages {
		t.Run(o.dependency, func(t *testing.T) {
			if err := o.stop(); err != nil {
				t.Fatal(err)
			}
			body := srv.WaitStatus(t, "/readyz", http.StatusServiceUnavailable, 15*time.Second)
			var ready struct {
				Status string
				Checks map[string]string
			}
			if err := json.Unmarshal([]byte(body), &ready); err != nil {
				t.Fatalf("/readyz body is not JSON: %s", body)
			}
			if ready.Status != "unavailable" || ready.Checks[o.dependency] == "ok" || ready.Checks[o.dependency] == "" {
				t.Errorf("/readyz = %s, want %s reported unavailable with a reason", body, o.dependency)
			}
			if err := o.start(); err != nil {
				t.Fatal(err)
			}
			srv.WaitStatus(t, "/readyz", http.StatusOK, 20*time.Second)
		})
	}
}

// TestBadConfiguration: each mistake exits non-zero with one clear line.
func TestBadConfiguration(t *testing.T) {
	pg := testenv.PostgresCluster(t)
	unreachable := pg.URL("postgres")
	if err := pg.Stop(); err != nil {
		t.Fatal(err)
	}
	tests := []struct {
		name string
		args []string
		want string // in the single stderr line
	}{
		{"unknown flag", []string{"serve", "--colour", "blue"}, "flag provided but not defined: -colour"},
		{"unknown command", []string{"sevre"}, `unknown command "sevre"`},
		{"malformed database URL", []string{"serve", "--database", "mysql://x"}, "--database"},
		{"malformed blobs URL", []string{"serve", "--blobs", "s3://bucket"}, "endpoint="},
		{"bad master key", []string{"serve", "--master-key", "short"}, "master key"},
		{"bad duration", []string{"serve", "--shutdown-timeout", "soon"}, "shutdown-timeout"},
		{"unreachable database", []string{"serve", "--database", unreachable}, "127.0.0.1"},
		{"migrate on unreachable database", []string{"migrate", "--database", unreachable}, "127.0.0.1"},
	}
	for _, tt := range tests {
		t.Run(tt.name, func(t *testing.T) {
			res := clitest.Run(t, nil, append(tt.args, "--data", t.TempDir())...)
			if res.Code == 0 {
				t.Fatalf("exit 0, want non-zero; stdout: %s", res.Stdout)
			}
			lines := strings.Split(strings.TrimSpace(res.Stderr), "\n")
			if len(lines) != 1 || !strings.Contains(lines[0], tt.want) {
				t.Errorf("stderr = %q, want one line containing %q", res.Stderr, tt.want)
			}
		})
	}
}

func TestVersionAndMigrate(t *testing.T) {
	if res := clitest.Run(t, nil, "version"); res.Code != 0 || !strings.HasPrefix(res.Stdout, "carnet ") {
		t.Errorf("carnet version = %d %q", res.Code, res.Stdout)
	}
	data := t.TempDir()
	res := clitest.Run(t, nil, "migrate", "--data", data)
	if res.Code != 0 || !strings.Contains(res.Stdout, "sqlite database at schema version") {
		t.Errorf("carnet migrate = %d %q %q", res.Code, res.Stdout, res.Stderr)
	}
	if res := clitest.Run(t, nil, "serve", "--help"); res.Code != 0 || !strings.Contains(res.Stdout, "CARNET_DATABASE") {
		t.Errorf("carnet serve --help = %d %q", res.Code, res.Stdout)
	}
}

// TestWrongMasterKey: a server started on documents with a master key that
// did not write them refuses to start, saying which key to give, instead
// of failing every deposit and read.
func TestWrongMasterKey(t *testing.T) {
	data := t.TempDir()
	srv := clitest.Serve(t, nil, "--data", data, "--demo") // deposits documents: data keys
	srv.Stop(t)

	res := clitest.Run(t, nil, "serve", "--data", data, "--master-key", "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=")
	lines := strings.Split(strings.TrimSpace(res.Stderr), "\n")
	if res.Code == 0 || len(lines) != 1 || !strings.Contains(lines[0], "--master-key") {
		t.Errorf("serve with another master key: exit %d, stderr %q; want non-zero and one line naming --master-key", res.Code, res.Stderr)
	}
}

// TestMemoryLimit: the garbage collector's settings the server runs with,
// as /metrics reports them, by default, from --memory-limit and from the
// Go runtime's own environment variables.
func TestMemoryLimit(t *testing.T) {
	for _, tc := range []struct {
		name string
		env  []string
		args []string
		want []string // lines of /metrics
	}{
		{"default", nil, nil, []string{"go_gc_gogc_percent 400", "go_gc_gomemlimit_bytes 2.68435456e+08"}},
		{"--memory-limit", nil, []string{"--memory-limit", "1073741824"}, []string{"go_gc_gogc_percent 400", "go_gc_gomemlimit_bytes 1.073741824e+09"}},
		{"--memory-limit 0: Go's defaults", nil, []string{"--memory-limit", "0"}, []string{"go_gc_gogc_percent 100", "go_gc_gomemlimit_bytes 9.223372036854776e+18"}},
		{"GOGC wins", []string{"GOGC=50"}, nil, []string{"go_gc_gogc_percent 50", "go_gc_gomemlimit_bytes 9.223372036854776e+18"}},
		{"GOMEMLIMIT wins", []string{"GOMEMLIMIT=200MiB"}, nil, []string{"go_gc_gogc_percent 100", "go_gc_gomemlimit_bytes 2.097152e+08"}},
	} {
		t.Run(tc.name, func(t *testing.T) {
			srv := clitest.Serve(t, tc.env, append([]string{"--data", t.TempDir()}, tc.args...)...)
			_, metrics := srv.Get(t, "/metrics")
			for _, want := range tc.want {
				if !strings.Contains(metrics, "\n"+want+"\n") {
					t.Errorf("/metrics lacks %q", want)
				}
			}
		})
	}
}
