package bench

import (
	"testing"
	"time"
)

func TestStatCPU(t *testing.T) {
	for _, tc := range []struct {
		name, stat string
		want       time.Duration
		ok         bool
	}{
		{"plain", "1234 (carnet) S 1 1234 1234 0 -1 4194560 500 0 0 0 250 75 0 0 20 0 12 0", 3250 * time.Millisecond, true},
		{"name with spaces and parentheses", "99 (a (b) c) R 1 2 3 0 -1 0 0 0 0 0 7 3 0 0", 100 * time.Millisecond, true},
		{"truncated", "99 (x) R 1 2 3", 0, false},
		{"no name", "99 x R", 0, false},
		{"not a number", "1 (x) S 1 1 1 0 -1 0 0 0 0 0 a 3", 0, false},
	} {
		got, err := statCPU([]byte(tc.stat))
		if (err == nil) != tc.ok || got != tc.want {
			t.Errorf("%s: statCPU = %v, %v; want %v (ok %v)", tc.name, got, err, tc.want, tc.ok)
		}
	}
}

func TestMachineCPU(t *testing.T) {
	for _, tc := range []struct {
		name, stat  string
		busy, total uint64
		ok          bool
	}{
		{"with guest times", "cpu  100 5 50 800 40 3 2 0 9 9\ncpu0 1 2 3\n", 160, 1000, true},
		{"old kernel, four fields", "cpu 10 0 10 80\n", 20, 100, true},
		{"not the cpu line", "intr 1 2 3\n", 0, 0, false},
	} {
		busy, total, err := machineCPU([]byte(tc.stat))
		if (err == nil) != tc.ok || busy != tc.busy || total != tc.total {
			t.Errorf("%s: machineCPU = %d, %d, %v; want %d, %d (ok %v)", tc.name, busy, total, err, tc.busy, tc.total, tc.ok)
		}
	}
}

// TestAccount checks the per-operation figures from two samples.
func TestAccount(t *testing.T) {
	before := cpuSample{server: time.Second, self: 100 * time.Millisecond, busy: 1000, total: 2000, ok: true}
	after := cpuSample{server: 3 * time.Second, self: 300 * time.Millisecond, busy: 2800, total: 4000, ok: true}
	r := Result{OpsPerS: 100, Seconds: 10} // 1,000 operations
	before.account(after, &r, true)
	if r.ServerCPUMsPerOp == nil || *r.ServerCPUMsPerOp != 2 || *r.LoadCPUMsPerOp != 0.2 || *r.MachineBusy != 0.9 {
		t.Errorf("server %v, load %v, busy %v; want 2 ms, 0.2 ms, 0.9", r.ServerCPUMsPerOp, r.LoadCPUMsPerOp, r.MachineBusy)
	}
	r = Result{OpsPerS: 100, Seconds: 10}
	before.account(after, &r, false)
	if r.ServerCPUMsPerOp != nil {
		t.Errorf("without a server process of its own: server CPU %v; want none", *r.ServerCPUMsPerOp)
	}
	r = Result{OpsPerS: 100, Seconds: 10}
	cpuSample{}.account(after, &r, true)
	if r.LoadCPUMsPerOp != nil || r.MachineBusy != nil {
		t.Errorf("from a failed sample: %v, %v; want nothing", r.LoadCPUMsPerOp, r.MachineBusy)
	}
}
