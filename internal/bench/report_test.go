package bench

import (
	"bytes"
	"encoding/json"
	"errors"
	"strings"
	"testing"
	"time"
)

func ms(n ...int) []time.Duration {
	out := make([]time.Duration, len(n))
	for i, v := range n {
		out[i] = time.Duration(v) * time.Millisecond
	}
	return out
}

func TestPercentile(t *testing.T) {
	hundred := make([]time.Duration, 100)
	for i := range hundred {
		hundred[i] = time.Duration(i+1) * time.Millisecond
	}
	for _, tc := range []struct {
		name   string
		sorted []time.Duration
		p      float64
		want   time.Duration
	}{
		{"none", nil, 50, 0},
		{"one", ms(7), 50, 7 * time.Millisecond},
		{"one p99", ms(7), 99, 7 * time.Millisecond},
		{"median of odd count", ms(1, 2, 3), 50, 2 * time.Millisecond},
		{"median of even count is the lower", ms(1, 2, 3, 4), 50, 2 * time.Millisecond},
		{"p100 is the max", ms(1, 2, 3, 4), 100, 4 * time.Millisecond},
		{"p50 of 1..100", hundred, 50, 50 * time.Millisecond},
		{"p95 of 1..100", hundred, 95, 95 * time.Millisecond},
		{"p99 of 1..100", hundred, 99, 99 * time.Millisecond},
		{"p99 of 1..10 is the max", ms(1, 2, 3, 4, 5, 6, 7, 8, 9, 10), 99, 10 * time.Millisecond},
		{"tiny p is the min", ms(1, 2, 3), 0.001, time.Millisecond},
	} {
		t.Run(tc.name, func(t *testing.T) {
			if got := Percentile(tc.sorted, tc.p); got != tc.want {
				t.Errorf("Percentile(%v, %v) = %v, want %v", tc.sorted, tc.p, got, tc.want)
			}
		})
	}
}

func TestNewResult(t *testing.T) {
	// Latencies unsorted, as workers append them.
	l := &Load{Latencies: ms(30, 10, 20, 40), Units: 40, Errors: 1, FirstError: errors.New("HTTP 500"), Elapsed: 2 * time.Second}
	r := NewResult("deposit-batch", "sqlite", "documents", 4, l)
	want := Result{Scenario: "deposit-batch", Engine: "sqlite", Unit: "documents", OpsPerS: 20,
		P50Ms: 20, P95Ms: 40, P99Ms: 40, Errors: 1, Requests: 4, Seconds: 2, Concurrency: 4, FirstError: "HTTP 500"}
	if r.Scenario != want.Scenario || r.OpsPerS != want.OpsPerS || r.P50Ms != want.P50Ms || r.P95Ms != want.P95Ms ||
		r.P99Ms != want.P99Ms || r.Errors != want.Errors || r.Requests != want.Requests || r.FirstError != want.FirstError {
		t.Errorf("NewResult = %+v\nwant %+v", r, want)
	}
	if l.Latencies[0] != 30*time.Millisecond {
		t.Error("NewResult sorted the load's latencies in place")
	}
}

// TestWriteJSON checks the fields every consumer of --json relies on: one
// object a line, unknown sizes as null.
func TestWriteJSON(t *testing.T) {
	db, rss, ceiling, eff := int64(4096), 123.4, 300.0, 0.5
	results := []Result{
		{Scenario: "deposit", Engine: "sqlite", Unit: "documents", OpsPerS: 150, DBBytes: &db, ServerRSSMB: &rss, CeilingOpsPerS: &ceiling, Efficiency: &eff},
		{Scenario: "read", Engine: "sqlite", Unit: "requests", OpsPerS: 1000},
	}
	var out bytes.Buffer
	if err := WriteJSON(&out, results); err != nil {
		t.Fatal(err)
	}
	lines := strings.Split(strings.TrimSpace(out.String()), "\n")
	if len(lines) != 2 {
		t.Fatalf("want one line per result, got:\n%s", out.String())
	}
	for i, line := range lines {
		var m map[string]any
		if err := json.Unmarshal([]byte(line), &m); err != nil {
			t.Fatalf("line %d: %v", i, err)
		}
		for _, k := range []string{"scenario", "ops_per_s", "p50_ms", "p95_ms", "p99_ms", "errors", "db_bytes", "blob_bytes", "server_rss_mb"} {
			if _, ok := m[k]; !ok {
				t.Errorf("line %d lacks %q: %s", i, k, line)
			}
		}
	}
	var first, second map[string]any
	json.Unmarshal([]byte(lines[0]), &first)
	json.Unmarshal([]byte(lines[1]), &second)
	if first["efficiency"] != 0.5 || first["db_bytes"] != 4096.0 || first["blob_bytes"] != nil {
		t.Errorf("deposit: %s", lines[0])
	}
	if _, ok := second["efficiency"]; ok || second["server_rss_mb"] != nil {
		t.Errorf("read: efficiency only for deposit, memory null when unknown: %s", lines[1])
	}

	out.Reset()
	if err := WriteTable(&out, results); err != nil {
		t.Fatal(err)
	}
	if !strings.Contains(out.String(), "efficiency 0.50") || strings.Count(out.String(), "\n") != 3 {
		t.Errorf("table:\n%s", out.String())
	}
}

func TestStatusKB(t *testing.T) {
	status := []byte("Name:\tcarnet\nVmPeak:\t 1000 kB\nVmHWM:\t   51200 kB\nVmRSS:\t   40960 kB\n")
	if mb, err := statusKB(status, "VmHWM"); err != nil || mb != 50 {
		t.Errorf("VmHWM = %v, %v; want 50 MiB", mb, err)
	}
	if _, err := statusKB(status, "VmSwap"); err == nil {
		t.Error("a missing line should be an error")
	}
}

func TestTypeAndID(t *testing.T) {
	for in, want := range map[string]string{
		"DocumentReference/abc/_history/1":              "DocumentReference/abc",
		"http://127.0.0.1:9/fhir/Binary/def/_history/2": "Binary/def",
		"Patient/xyz":                         "Patient/xyz",
		"http://127.0.0.1:9/fhir/Patient/xyz": "Patient/xyz",
	} {
		if got := typeAndID(in); got != want {
			t.Errorf("typeAndID(%q) = %q, want %q", in, got, want)
		}
	}
}
