package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"strings"
	"sync"
	"time"

	"github.com/carnet-sante/carnet/internal/bench"
	"github.com/carnet-sante/carnet/internal/config"
)

// quick are the settings of `carnet bench --quick`, the smoke run CI
// makes: every scenario, small, in about thirty seconds.
var quick = struct {
	duration                         time.Duration
	patients, professionals, clients int
}{2 * time.Second, 100, 20, 4}

// Bench runs `carnet bench`: the performance benchmark of package bench,
// on a server of its own or on a running one (--url). The results go to
// stdout, as a table or as JSON lines; progress goes to stderr. It fails
// when a scenario had errors.
func Bench(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	opt := bench.Options{Progress: stderr, Open: openBenchStore}
	var scenarios string
	var asJSON, isQuick bool
	fs := flag.NewFlagSet("carnet bench", flag.ContinueOnError)
	fs.SetOutput(io.Discard)
	fs.StringVar(&opt.Engine, "engine", "sqlite", "database engine of the server the benchmark starts: sqlite or postgres (a durable throwaway cluster unless --database)")
	fs.StringVar(&opt.URL, "url", "", "benchmark the running server at this URL instead of starting one")
	fs.StringVar(&opt.DatabaseURL, "database", "", "PostgreSQL database of the server (postgres://…); with --url, where to measure its size and make the ceiling's writes")
	fs.StringVar(&opt.DataDir, "data", "", "with --url: the server's data directory, to measure its size and make the ceiling's writes")
	fs.IntVar(&opt.Patients, "patients", 1000, "synthetic patients to deposit documents for")
	fs.IntVar(&opt.Professionals, "professionals", 100, "synthetic professionals who author them")
	fs.IntVar(&opt.Concurrency, "concurrency", 8, "concurrent clients")
	fs.DurationVar(&opt.Duration, "duration", 30*time.Second, "how long each scenario runs")
	fs.StringVar(&scenarios, "scenarios", "", "comma-separated scenarios to run (default all): "+strings.Join(bench.Scenarios, ","))
	fs.IntVar(&opt.Scale, "scale", 0, "first build a record of this many documents (10 per patient) straight into the store, then run the read scenarios on it")
	fs.StringVar(&opt.Synthea, "synthea", "../shared/fixtures/synthea", "directory of the Synthea transaction bundles of the synthea scenario")
	fs.StringVar(&opt.Profile, "profile", "", "directory where a CPU profile of the server is written for each scenario")
	fs.Uint64Var(&opt.Seed, "seed", 1, "seed of the synthetic population and documents")
	fs.BoolVar(&isQuick, "quick", false, fmt.Sprintf("smoke run: every scenario for %s with %d patients and %d clients, unless set otherwise", quick.duration, quick.patients, quick.clients))
	fs.BoolVar(&asJSON, "json", false, "print one JSON object per scenario instead of a table")
	if err := config.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			benchUsage(stdout, fs)
		}
		return err
	}
	if fs.NArg() > 0 {
		return fmt.Errorf("unexpected argument %q (see 'carnet bench --help')", fs.Arg(0))
	}
	if isQuick {
		set := map[string]bool{}
		fs.Visit(func(f *flag.Flag) { set[f.Name] = true })
		if !set["duration"] {
			opt.Duration = quick.duration
		}
		if !set["patients"] {
			opt.Patients = quick.patients
		}
		if !set["professionals"] {
			opt.Professionals = quick.professionals
		}
		if !set["concurrency"] {
			opt.Concurrency = quick.clients
		}
	}
	if scenarios != "" {
		opt.Scenarios = strings.Split(scenarios, ",")
	}
	exe, err := os.Executable()
	if err != nil {
		return fmt.Errorf("find the carnet binary to run the server: %w", err)
	}
	opt.Executable = exe

	// JSON lines go out as each scenario ends, so that a long run's
	// results are there before its throwaway data are removed.
	var writeErr error
	if asJSON {
		opt.Report = func(r bench.Result) { writeErr = errors.Join(writeErr, bench.WriteJSON(stdout, []bench.Result{r})) }
	}
	results, err := bench.Run(ctx, opt)
	err = errors.Join(err, writeErr)
	if !asJSON {
		err = errors.Join(err, bench.WriteTable(stdout, results))
	}
	if err != nil {
		return err
	}
	var failed []string
	for _, r := range results {
		if r.Errors > 0 {
			failed = append(failed, fmt.Sprintf("%s (%d errors, first: %s)", r.Scenario, r.Errors, r.FirstError))
		}
	}
	if len(failed) > 0 {
		return fmt.Errorf("scenarios with errors: %s", strings.Join(failed, "; "))
	}
	return nil
}

// openBenchStore opens the database and blob store of a carnet instance in
// this process, for the benchmark's ceiling and bulk build; the returned
// function closes them, once.
func openBenchStore(ctx context.Context, dataDir, databaseURL string) (bench.Stores, func(), error) {
	cfg := &config.Config{}
	config.FlagSet("carnet bench", cfg) // the defaults of every option
	cfg.DataDir, cfg.DatabaseURL, cfg.LogLevel = dataDir, databaseURL, "error"
	a, err := Open(ctx, cfg, newLogger(cfg, io.Discard))
	if err != nil {
		return bench.Stores{}, nil, err
	}
	var once sync.Once
	return bench.Stores{Resources: a.Store, Vault: a.Vault}, func() { once.Do(a.Close) }, nil
}

func benchUsage(w io.Writer, fs *flag.FlagSet) {
	fmt.Fprintf(w, "usage: carnet bench [options]\n\noptions:\n")
	fs.VisitAll(func(f *flag.Flag) {
		def := ""
		if f.DefValue != "" && f.DefValue != "false" && f.DefValue != "0" {
			def = " (default " + f.DefValue + ")"
		}
		fmt.Fprintf(w, "  --%-14s %s%s (env %s)\n", f.Name, f.Usage, def, config.EnvName(f.Name))
	})
}
