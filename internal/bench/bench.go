// Package bench is `carnet bench`: reproducible performance figures for
// the operations a shared health record lives on — depositing documents
// (IHE ITI-65), finding and reading them (ITI-67, ITI-68), a patient's
// document list, bulk FHIR ingest and a patient's whole record.
//
// It starts its own server as a separate process (so that the memory it
// reports is the server's alone) on a throwaway data directory — SQLite,
// or PostgreSQL on a durable throwaway cluster — or targets a running
// server. It generates a synthetic population (valid NIRs under the
// demonstration OID, valid RPPS numbers) and documents of realistic sizes,
// then runs each scenario from a number of concurrent clients for a
// duration, and reports throughput and latency percentiles.
//
// Machines are shared and noisy: the figures that carry are those measured
// in the same run, such as the deposit's efficiency, its end-to-end
// throughput over the throughput of the same writes made straight into the
// store.
package bench

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"math/rand/v2"
	"os"
	"path/filepath"
	"slices"
	"strings"
	"sync"
	"time"

	"github.com/carnet-sante/carnet/internal/blob"
	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/ins"
	"github.com/carnet-sante/carnet/internal/pgtemp"
	"github.com/carnet-sante/carnet/internal/store"
)

// Scenarios are the scenarios in the order they run. Deposits come first:
// they make the documents the read scenarios read.
var Scenarios = []string{
	"deposit", "deposit-batch", "deposit-pdf", "deposit-imaging",
	"search-patient", "read", "retrieve", "patient-list",
	"synthea", "everything",
}

// scaleScenarios run after a --scale build: the reads whose latency at
// size is the question.
var scaleScenarios = []string{"search-patient", "read", "retrieve", "patient-list", "everything"}

// Options say what to benchmark and how.
type Options struct {
	// Engine is "sqlite" or "postgres", for the server the benchmark starts.
	Engine string
	// URL targets a running server instead of starting one.
	URL string
	// DatabaseURL is the PostgreSQL database of the server: for a started
	// server, instead of a throwaway cluster; with URL, where to measure
	// its size and make the ceiling's writes.
	DatabaseURL string
	// DataDir is, with URL, the server's data directory (its SQLite
	// database and blobs), for sizes and the ceiling; optional.
	DataDir string

	Patients, Professionals int
	Concurrency             int
	Duration                time.Duration
	// Scenarios to run, in the order of the package's Scenarios; empty
	// means all (or, with Scale, the read scenarios).
	Scenarios []string
	// Scale, when positive, first builds a record of that many documents
	// (ten per patient) straight into the store.
	Scale int
	// Synthea is the directory of Synthea transaction bundles.
	Synthea string
	// Profile, when set, is a directory where a CPU profile of the server
	// is written for each scenario.
	Profile string
	// Seed makes the population and documents reproducible.
	Seed uint64

	// Executable is the carnet binary to run as the server.
	Executable string
	// Open opens the stores of a data directory or database in this
	// process, for the ceiling and the bulk build.
	Open OpenFunc
	// Progress receives progress lines (stderr).
	Progress io.Writer
	// Report, if set, receives each result as soon as its scenario ends,
	// before the (possibly long) removal of the throwaway data.
	Report func(Result)
}

// Stores are the stores of a carnet instance, opened in this process.
type Stores struct {
	Resources store.Resources
	Vault     *blob.Vault
}

// OpenFunc opens the stores of a carnet instance in this process: SQLite
// and blobs in dataDir when databaseURL is empty, else blobs in dataDir
// and the database there. The returned function closes them; calling it
// again does nothing.
type OpenFunc func(ctx context.Context, dataDir, databaseURL string) (Stores, func(), error)

// Run runs the benchmark and returns one result per scenario. A scenario
// whose requests failed has Errors > 0; Run itself fails only when the
// benchmark cannot run at all.
func Run(ctx context.Context, opt Options) (results []Result, err error) {
	if err := opt.check(); err != nil {
		return nil, err
	}
	b := &bench{opt: opt, docs: newDocSet(200_000), engine: opt.Engine, r: rand.New(rand.NewPCG(opt.Seed, 1))}
	defer func() { err = errors.Join(err, b.close()) }()
	if err := b.setUp(ctx); err != nil {
		return nil, err
	}
	if opt.Scale > 0 {
		r, err := b.build(ctx)
		if err != nil {
			return nil, err
		}
		results = append(results, b.report(r))
	}
	if err := b.startServer(ctx); err != nil {
		return nil, err
	}
	if opt.Scale == 0 {
		if err := b.seed(ctx); err != nil {
			return nil, err
		}
	}
	for _, name := range b.scenarios() {
		if err := ctx.Err(); err != nil {
			return results, err
		}
		r, err := b.run(ctx, name)
		if err != nil {
			return results, fmt.Errorf("%s: %w", name, err)
		}
		results = append(results, b.report(r))
	}
	return results, nil
}

func (o *Options) check() error {
	switch o.Engine {
	case "sqlite", "postgres":
	default:
		return fmt.Errorf("--engine %q: want sqlite or postgres", o.Engine)
	}
	for _, s := range o.Scenarios {
		if !slices.Contains(Scenarios, s) {
			return fmt.Errorf("unknown scenario %q: want some of %s", s, strings.Join(Scenarios, ", "))
		}
	}
	switch {
	case o.Concurrency < 1:
		return fmt.Errorf("--concurrency %d: want 1 or more", o.Concurrency)
	case o.Duration <= 0:
		return fmt.Errorf("--duration %s: want a positive duration", o.Duration)
	case o.Patients < 1 || o.Professionals < 1:
		return fmt.Errorf("--patients and --professionals must be 1 or more")
	case o.Scale < 0:
		return fmt.Errorf("--scale %d: want a number of documents", o.Scale)
	case o.Scale > 0 && o.URL != "":
		return fmt.Errorf("--scale builds the record straight into a store of its own: it cannot target --url")
	}
	return nil
}

// bench is one run of the benchmark.
type bench struct {
	opt    Options
	engine string
	tmp    string // throwaway directory, removed at the end
	// dataDir and databaseURL locate the server's data ("" when unknown).
	dataDir, databaseURL string
	cluster              *pgtemp.Cluster
	srv                  *server
	c                    *client

	r               *rand.Rand // for the setup, which runs in one goroutine
	pop             *Population
	docs            *docSet
	syntheaPatients []string
}

// setUp makes the throwaway directory and, for PostgreSQL without a
// database given, a durable throwaway cluster.
func (b *bench) setUp(ctx context.Context) error {
	b.dataDir, b.databaseURL = b.opt.DataDir, b.opt.DatabaseURL
	if b.opt.URL != "" {
		return nil
	}
	var err error
	if b.tmp, err = os.MkdirTemp("", "carnet-bench-"); err != nil {
		return err
	}
	// The postgres OS user must traverse it to reach its cluster.
	if err := os.Chmod(b.tmp, 0o755); err != nil {
		return err
	}
	b.dataDir = filepath.Join(b.tmp, "data")
	if b.engine == "postgres" && b.databaseURL == "" {
		b.progress("starting a durable throwaway PostgreSQL cluster")
		if b.cluster, err = pgtemp.StartWith(filepath.Join(b.tmp, "pg"), pgtemp.Options{Durable: true, Settings: benchSettings}); err != nil {
			return err
		}
		if b.databaseURL, err = b.cluster.CreateDatabase(ctx, "carnet_bench"); err != nil {
			return err
		}
	}
	return nil
}

// benchSettings: autovacuum looks at a database every minute by default,
// and a benchmark's database is younger than that when its searches run.
// Until autovacuum analyzes the new tables, the planner has no statistics
// and reads a patient's rows through the index of every value of a
// parameter (a seventh of the patient-list throughput at 1,000 patients).
// A server that has run for a few minutes has its statistics: so does the
// benchmark's cluster, within seconds.
var benchSettings = map[string]string{"autovacuum_naptime": "5s"}

func (b *bench) startServer(ctx context.Context) error {
	if b.opt.URL != "" {
		b.c = newClient(b.opt.URL, b.opt.Concurrency)
		return nil
	}
	b.progress("starting the server (%s)", b.engine)
	var err error
	b.srv, err = startServer(ctx, b.opt.Executable, b.dataDir, b.databaseURL, filepath.Join(b.tmp, "server.log"), b.opt.Profile != "")
	if err != nil {
		return err
	}
	b.c = newClient(b.srv.url, b.opt.Concurrency)
	return nil
}

// report hands r to Options.Report and returns it.
func (b *bench) report(r Result) Result {
	if b.opt.Report != nil {
		b.opt.Report(r)
	}
	return r
}

func (b *bench) close() error {
	var errs []error
	if b.srv != nil {
		b.srv.stop()
	}
	if b.cluster != nil {
		errs = append(errs, b.cluster.Close())
	}
	if b.tmp != "" {
		b.progress("removing the throwaway data in %s", b.tmp)
		errs = append(errs, os.RemoveAll(b.tmp))
	}
	return errors.Join(errs...)
}

func (b *bench) progress(format string, args ...any) {
	if b.opt.Progress != nil {
		fmt.Fprintf(b.opt.Progress, "bench: "+format+"\n", args...)
	}
}

func (b *bench) scenarios() []string {
	if len(b.opt.Scenarios) > 0 {
		var out []string
		for _, s := range Scenarios {
			if slices.Contains(b.opt.Scenarios, s) {
				out = append(out, s)
			}
		}
		return out
	}
	if b.opt.Scale > 0 {
		return scaleScenarios
	}
	return Scenarios
}

// seed stores the population through the API, in transactions of a few
// hundred resources.
func (b *bench) seed(ctx context.Context) error {
	pop, err := NewPopulation(b.opt.Seed, b.opt.Patients, b.opt.Professionals)
	if err != nil {
		return err
	}
	b.pop = pop
	b.progress("storing %d patients and %d professionals", len(pop.Patients), len(pop.Professionals))
	const chunk = 250
	for start := 0; start < len(pop.Patients); start += chunk {
		part := pop.Patients[start:min(start+chunk, len(pop.Patients))]
		entries := make([]Entry, len(part))
		for i := range part {
			res, err := part[i].Resource()
			if err != nil {
				return err
			}
			entries[i] = Entry{Type: "Patient", Resource: res,
				IfNoneExist: "identifier=" + ins.KindNIRDemo.System() + "|" + part[i].NIR.String()}
		}
		ids, err := b.create(ctx, entries)
		if err != nil {
			return fmt.Errorf("store the patients: %w", err)
		}
		for i := range part {
			part[i].ID = ids[i]
		}
	}
	for start := 0; start < len(pop.Professionals); start += chunk {
		part := pop.Professionals[start:min(start+chunk, len(pop.Professionals))]
		entries := make([]Entry, len(part))
		for i := range part {
			entries[i] = Entry{Type: "Practitioner", Resource: part[i].Resource(),
				IfNoneExist: "identifier=" + directory.SystemRPPS + "|" + part[i].RPPS}
		}
		ids, err := b.create(ctx, entries)
		if err != nil {
			return fmt.Errorf("store the professionals: %w", err)
		}
		for i := range part {
			part[i].ID = ids[i]
		}
	}
	return nil
}

// create POSTs resources in one transaction and returns their ids.
func (b *bench) create(ctx context.Context, entries []Entry) ([]string, error) {
	d := &Deposit{Entries: entries}
	for i := range d.Entries {
		d.Entries[i].ID = newUUID(b.r)
	}
	body, err := d.Bundle()
	if err != nil {
		return nil, err
	}
	reply, err := b.c.do(ctx, "POST", "", body)
	if err != nil {
		return nil, err
	}
	locations, err := locations(reply, len(entries))
	if err != nil {
		return nil, err
	}
	ids := make([]string, len(locations))
	for i, l := range locations {
		ids[i] = idOf(l, entries[i].Type)
	}
	return ids, nil
}

// run runs one scenario and completes its result with the server's
// sizes and memory.
func (b *bench) run(ctx context.Context, name string) (Result, error) {
	b.progress("%s: running for %s with %d clients", name, b.opt.Duration, b.opt.Concurrency)
	s, err := b.scenario(name)
	if err != nil {
		return Result{}, err
	}
	var profiled sync.WaitGroup
	if b.opt.Profile != "" {
		path := filepath.Join(b.opt.Profile, b.engine+"-"+name+".pprof")
		profiled.Go(func() {
			if err := b.c.profile(ctx, max(1, int(b.opt.Duration.Seconds())), path); err != nil {
				b.progress("%s: no profile: %v", name, err)
			}
		})
	}
	pid := 0
	if b.srv != nil {
		pid = b.srv.cmd.Process.Pid
	}
	cpu := sampleCPU(pid)
	l := RunLoad(ctx, b.opt.Concurrency, b.opt.Duration, 1, s.op, func(ops, errs int) {
		b.progress("%s: %d requests, %d errors", name, ops, errs)
	})
	r := NewResult(name, b.engine, s.unit, b.opt.Concurrency, l)
	cpu.account(sampleCPU(pid), &r, pid > 0)
	profiled.Wait()
	b.progress("%s: %.1f %s/s, p99 %.1f ms, %s", name, r.OpsPerS, s.unit, r.P99Ms, l)
	if s.after != nil {
		if err := s.after(ctx, &r); err != nil {
			return r, err
		}
	}
	b.measure(ctx, &r)
	return r, nil
}

// measure fills in the sizes and the server's peak memory, where known.
func (b *bench) measure(ctx context.Context, r *Result) {
	if b.srv != nil {
		if mb, err := peakRSSMB(b.srv.cmd.Process.Pid); err == nil {
			mb = round(mb, 1)
			r.ServerRSSMB = &mb
		}
	}
	if b.databaseURL != "" {
		if n, err := postgresBytes(ctx, b.databaseURL); err == nil {
			r.DBBytes = &n
		}
	} else if b.dataDir != "" {
		if n, err := sqliteBytes(b.dataDir); err == nil {
			r.DBBytes = &n
		}
	}
	if b.dataDir != "" {
		if n, err := dirBytes(filepath.Join(b.dataDir, "blobs")); err == nil {
			r.BlobBytes = &n
		}
	}
}

// docSet keeps the documents deposited so far, up to a bound (a uniform
// sample past it), for the read scenarios to pick from.
type docSet struct {
	mu   sync.Mutex
	max  int
	seen int
	docs []StoredDocument
	r    *rand.Rand
}

func newDocSet(max int) *docSet {
	return &docSet{max: max, r: rand.New(rand.NewPCG(1, 2))}
}

func (s *docSet) add(docs ...StoredDocument) {
	s.mu.Lock()
	defer s.mu.Unlock()
	for _, d := range docs {
		s.seen++
		if len(s.docs) < s.max {
			s.docs = append(s.docs, d)
		} else if i := s.r.IntN(s.seen); i < s.max { // reservoir sampling
			s.docs[i] = d
		}
	}
}

func (s *docSet) len() int {
	s.mu.Lock()
	defer s.mu.Unlock()
	return len(s.docs)
}

// pick returns a random document, false if there is none.
func (s *docSet) pick(r *rand.Rand) (StoredDocument, bool) {
	s.mu.Lock()
	defer s.mu.Unlock()
	if len(s.docs) == 0 {
		return StoredDocument{}, false
	}
	return s.docs[r.IntN(len(s.docs))], true
}

// locations reads the locations of a transaction-response of n entries,
// each of which must have succeeded.
func locations(body []byte, n int) ([]string, error) {
	var resp struct {
		ResourceType string
		Entry        []struct {
			Response struct{ Status, Location string }
		}
	}
	if err := json.Unmarshal(body, &resp); err != nil {
		return nil, err
	}
	if resp.ResourceType != "Bundle" || len(resp.Entry) != n {
		return nil, fmt.Errorf("transaction-response: want a Bundle of %d entries, got a %s of %d", n, resp.ResourceType, len(resp.Entry))
	}
	out := make([]string, n)
	for i, e := range resp.Entry {
		if !strings.HasPrefix(e.Response.Status, "2") {
			return nil, fmt.Errorf("transaction-response: entry %d: status %q", i, e.Response.Status)
		}
		out[i] = e.Response.Location
	}
	return out, nil
}

// isSearchset reports whether body looks like a searchset Bundle, without
// decoding it all.
func isSearchset(body []byte) bool {
	return bytes.Contains(body, []byte(`"searchset"`))
}
