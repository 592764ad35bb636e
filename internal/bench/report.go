package bench

import (
	"encoding/json"
	"fmt"
	"io"
	"math"
	"slices"
	"strings"
	"text/tabwriter"
	"time"
)

// Result is the outcome of one scenario: one JSON object of `carnet bench
// --json`, one row of its table.
type Result struct {
	Scenario string `json:"scenario"`
	Engine   string `json:"engine"`
	// Unit is what OpsPerS counts: "documents", "resources" or "requests".
	Unit    string  `json:"unit"`
	OpsPerS float64 `json:"ops_per_s"`
	// P50Ms, P95Ms and P99Ms are request latencies, in milliseconds.
	P50Ms       float64 `json:"p50_ms"`
	P95Ms       float64 `json:"p95_ms"`
	P99Ms       float64 `json:"p99_ms"`
	Errors      int     `json:"errors"`
	Requests    int     `json:"requests"`
	Seconds     float64 `json:"seconds"`
	Concurrency int     `json:"concurrency"`
	// DBBytes, BlobBytes and ServerRSSMB describe the server after the
	// scenario: database size, document storage size, and the peak
	// resident memory of the server process (VmHWM) so far. Null when the
	// benchmark cannot see them (a server given by --url).
	DBBytes     *int64   `json:"db_bytes"`
	BlobBytes   *int64   `json:"blob_bytes"`
	ServerRSSMB *float64 `json:"server_rss_mb"`
	// CeilingOpsPerS and Efficiency: for deposit, the same documents
	// stored straight into the store (no HTTP, no validation), and
	// OpsPerS / CeilingOpsPerS.
	CeilingOpsPerS *float64 `json:"ceiling_ops_per_s,omitempty"`
	Efficiency     *float64 `json:"efficiency,omitempty"`
	// Documents and BytesPerDocument: the size of the record after a
	// --scale build.
	Documents        int64    `json:"documents,omitempty"`
	BytesPerDocument *float64 `json:"bytes_per_document,omitempty"`
	// ServerCPUMsPerOp and LoadCPUMsPerOp: CPU time (user + system) of the
	// server process and of the load generator per unit of OpsPerS;
	// MachineBusy: the share of all the box's cores busy during the
	// scenario (0–1). Absent where /proc cannot tell.
	ServerCPUMsPerOp *float64 `json:"server_cpu_ms_per_op,omitempty"`
	LoadCPUMsPerOp   *float64 `json:"load_cpu_ms_per_op,omitempty"`
	MachineBusy      *float64 `json:"machine_busy,omitempty"`
	// FirstError says why the first failed request failed.
	FirstError string `json:"first_error,omitempty"`
}

// Percentile returns the p-th percentile (0 < p ≤ 100) of sorted
// latencies by the nearest-rank method: the smallest latency that at least
// p% of the requests did not exceed. Zero for no latency.
func Percentile(sorted []time.Duration, p float64) time.Duration {
	if len(sorted) == 0 {
		return 0
	}
	rank := int(math.Ceil(p / 100 * float64(len(sorted))))
	return sorted[min(max(rank, 1), len(sorted))-1]
}

// NewResult summarises a load as the result of a scenario.
func NewResult(scenario, engine, unit string, concurrency int, l *Load) Result {
	lat := slices.Clone(l.Latencies)
	slices.Sort(lat)
	ms := func(d time.Duration) float64 { return round(float64(d)/float64(time.Millisecond), 3) }
	r := Result{
		Scenario:    scenario,
		Engine:      engine,
		Unit:        unit,
		OpsPerS:     round(l.Rate(), 1),
		P50Ms:       ms(Percentile(lat, 50)),
		P95Ms:       ms(Percentile(lat, 95)),
		P99Ms:       ms(Percentile(lat, 99)),
		Errors:      l.Errors,
		Requests:    len(l.Latencies),
		Seconds:     round(l.Elapsed.Seconds(), 2),
		Concurrency: concurrency,
	}
	if l.FirstError != nil {
		r.FirstError = l.FirstError.Error()
	}
	return r
}

func round(x float64, digits int) float64 {
	p := math.Pow(10, float64(digits))
	return math.Round(x*p) / p
}

// WriteJSON writes one JSON object per result, one per line.
func WriteJSON(w io.Writer, results []Result) error {
	enc := json.NewEncoder(w)
	for _, r := range results {
		if err := enc.Encode(r); err != nil {
			return err
		}
	}
	return nil
}

// WriteTable writes the results as an aligned table for people.
func WriteTable(w io.Writer, results []Result) error {
	tw := tabwriter.NewWriter(w, 0, 0, 2, ' ', 0)
	fmt.Fprintln(tw, "scenario\tthroughput\tunit/s\tp50 ms\tp95 ms\tp99 ms\terrors\tdb MB\tblobs MB\tserver RSS MB\tnote\t")
	for _, r := range results {
		var notes []string
		if r.Efficiency != nil {
			notes = append(notes, fmt.Sprintf("ceiling %.0f/s, efficiency %.2f", *r.CeilingOpsPerS, *r.Efficiency))
		}
		if r.BytesPerDocument != nil {
			notes = append(notes, fmt.Sprintf("%d documents, %.0f bytes/document", r.Documents, *r.BytesPerDocument))
		}
		if r.ServerCPUMsPerOp != nil {
			notes = append(notes, fmt.Sprintf("server CPU %.2f ms/op", *r.ServerCPUMsPerOp))
		}
		if r.MachineBusy != nil {
			notes = append(notes, fmt.Sprintf("box %.0f%% busy", *r.MachineBusy*100))
		}
		if r.FirstError != "" {
			notes = append(notes, "first error: "+r.FirstError)
		}
		fmt.Fprintf(tw, "%s\t%.1f\t%s\t%.2f\t%.2f\t%.2f\t%d\t%s\t%s\t%s\t%s\t\n",
			r.Scenario, r.OpsPerS, r.Unit, r.P50Ms, r.P95Ms, r.P99Ms, r.Errors,
			megabytes(r.DBBytes), megabytes(r.BlobBytes), optional(r.ServerRSSMB), strings.Join(notes, "; "))
	}
	return tw.Flush()
}

func megabytes(b *int64) string {
	if b == nil {
		return "-"
	}
	return fmt.Sprintf("%.1f", float64(*b)/(1<<20))
}

func optional(f *float64) string {
	if f == nil {
		return "-"
	}
	return fmt.Sprintf("%.0f", *f)
}
