package main_test

import (
	"encoding/json"
	"path/filepath"
	"slices"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/bench"
	"github.com/carnet-sante/carnet/internal/clitest"
)

// TestBenchQuickJSON runs the CI smoke run of `carnet bench`, shortened:
// one JSON object per scenario, in order, with every field a consumer
// reads, no errors, and the server's memory measured.
func TestBenchQuickJSON(t *testing.T) {
	if testing.Short() {
		t.Skip("starts a server and runs every scenario")
	}
	dir, err := filepath.Abs(synthea)
	if err != nil {
		t.Fatal(err)
	}
	res := clitest.Run(t, nil, "bench", "--quick", "--json", "--duration", "200ms", "--patients", "20", "--synthea", dir)
	if res.Code != 0 {
		t.Fatalf("carnet bench exited %d\nstdout:\n%s\nstderr:\n%s", res.Code, res.Stdout, res.Stderr)
	}
	lines := strings.Split(strings.TrimSpace(res.Stdout), "\n")
	var got []string
	for _, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("not a JSON object: %q: %v", line, err)
		}
		for _, k := range []string{"scenario", "ops_per_s", "p50_ms", "p95_ms", "p99_ms", "errors", "db_bytes", "blob_bytes", "server_rss_mb"} {
			if _, ok := m[k]; !ok {
				t.Errorf("%s: no %q", line, k)
			}
		}
		name, _ := m["scenario"].(string)
		got = append(got, name)
		if m["errors"] != 0.0 || !(m["ops_per_s"].(float64) > 0) {
			t.Errorf("%s: want no errors and some throughput", line)
		}
		if rss, _ := m["server_rss_mb"].(float64); rss <= 0 {
			t.Errorf("%s: server memory not measured", line)
		}
		if name == "deposit" && m["efficiency"] == nil {
			t.Errorf("%s: no efficiency", line)
		}
	}
	if !slices.Equal(got, bench.Scenarios) {
		t.Errorf("scenarios %v, want %v", got, bench.Scenarios)
	}
	if !strings.Contains(res.Stderr, "bench: deposit:") {
		t.Errorf("no progress on stderr:\n%s", res.Stderr)
	}
}

// TestBenchBadOptions: a wrong option is one line on stderr and a
// non-zero exit, before anything starts.
func TestBenchBadOptions(t *testing.T) {
	for _, args := range [][]string{
		{"bench", "--engine", "oracle"},
		{"bench", "--scenarios", "deposit,fly"},
		{"bench", "--scale", "1000", "--url", "http://127.0.0.1:1"},
	} {
		res := clitest.Run(t, nil, args...)
		if res.Code == 0 || strings.Count(res.Stderr, "\n") != 1 {
			t.Errorf("%v: exit %d, stderr %q", args, res.Code, res.Stderr)
		}
	}
}
