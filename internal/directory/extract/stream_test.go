package extract_test

import (
	"bytes"
	"errors"
	"io"
	"runtime"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/directory/extract"
)

// A 200,000-row extract (about 80 MB), generated into a pipe while it is
// read, is streamed with a small, flat heap, and the reader finds what the
// generator reports.
func TestStreamBoundedMemory(t *testing.T) {
	const rows = 200_000
	pr, pw := io.Pipe()
	report := make(chan extract.GenerateReport, 1)
	go func() {
		rep, err := extract.Generate(pw, rows, 2026, extract.GenerateOptions{InvalidFraction: 0.02, Latin1: true})
		report <- rep
		pw.CloseWithError(err)
	}()

	runtime.GC()
	var ms runtime.MemStats
	runtime.ReadMemStats(&ms)
	base, peak := ms.HeapInuse, ms.HeapInuse
	sample := func() {
		runtime.ReadMemStats(&ms)
		peak = max(peak, ms.HeapInuse)
	}

	start := time.Now()
	r, err := extract.NewReader(pr, directory.Validator{})
	if err != nil {
		t.Fatal(err)
	}
	var (
		practitioners, roles, orgs, rejected, read int
		lastPS                                     string
	)
	for {
		g, err := r.Next()
		var rowErr *extract.RowError
		if errors.Is(err, io.EOF) {
			break
		}
		if errors.As(err, &rowErr) {
			rejected++
			continue
		}
		if err != nil {
			t.Fatal(err)
		}
		// The generator writes a professional's rows together: a new
		// practitioner id is a new professional.
		if g.Practitioner.ID != lastPS {
			practitioners++
			lastPS = g.Practitioner.ID
		}
		roles += len(g.Roles)
		orgs += len(g.Organizations)
		if read += len(g.Roles); read >= 5000 {
			read = 0
			sample()
		}
	}
	elapsed := time.Since(start)
	sample()
	rep := <-report

	if rep.Valid+rep.Invalid != rows {
		t.Errorf("generator wrote %d + %d rows, want %d", rep.Valid, rep.Invalid, rows)
	}
	got := extract.GenerateReport{Valid: roles, Invalid: rejected, Practitioners: practitioners, Roles: roles, Organizations: orgs}
	if got != rep {
		t.Errorf("reader found %+v, generator reports %+v", got, rep)
	}
	if r.Encoding() != extract.EncodingLatin1 {
		t.Errorf("encoding %v, want Latin-1", r.Encoding())
	}
	const limit = 50 << 20
	t.Logf("%d rows in %v (%.0f rows/s, generator included); heap in use %.1f MB before, peak %.1f MB",
		rows, elapsed.Round(time.Millisecond), rows/elapsed.Seconds(), float64(base)/(1<<20), float64(peak)/(1<<20))
	if peak-base > limit {
		t.Errorf("heap in use grew by %.1f MB while streaming, want under %d MB", float64(peak-base)/(1<<20), limit>>20)
	}
}

// BenchmarkReader measures the reader alone on an extract held in memory:
// parsing, checking identifiers and writing the FHIR JSON.
func BenchmarkReader(b *testing.B) {
	const rows = 20_000
	var buf bytes.Buffer
	if _, err := extract.Generate(&buf, rows, 1, extract.GenerateOptions{InvalidFraction: 0.01}); err != nil {
		b.Fatal(err)
	}
	data := buf.Bytes()
	b.SetBytes(int64(len(data)))
	b.ReportAllocs()
	for b.Loop() {
		r, err := extract.NewReader(bytes.NewReader(data), directory.Validator{})
		if err != nil {
			b.Fatal(err)
		}
		for {
			if _, err := r.Next(); errors.Is(err, io.EOF) {
				break
			}
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}

// BenchmarkGenerate measures the generator, which feeds the import test
// and carnet bench.
func BenchmarkGenerate(b *testing.B) {
	const rows = 20_000
	for b.Loop() {
		if _, err := extract.Generate(io.Discard, rows, 1, extract.GenerateOptions{InvalidFraction: 0.01}); err != nil {
			b.Fatal(err)
		}
	}
	b.ReportMetric(float64(rows*b.N)/b.Elapsed().Seconds(), "rows/s")
}
