package app

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"net"
	"runtime/debug"

	"github.com/carnet-sante/carnet/internal/config"
	"github.com/carnet-sante/carnet/internal/demo"
	"github.com/carnet-sante/carnet/internal/server"
)

// storageOptions are the options of every command that opens the stores.
var storageOptions = []string{"data", "database", "blobs", "master-key", "log-level", "log-format"}

// parse builds a command's flags from the options table, parses args and
// validates the result. On --help it prints the usage and returns
// flag.ErrHelp, which the caller treats as success. Arguments after the
// options are refused: commands that take some use parseWithArgs.
func parse(synopsis string, args []string, stdout io.Writer, names ...string) (*config.Config, error) {
	cfg, rest, err := parseWithArgs(synopsis, "", args, stdout, names...)
	if err == nil && len(rest) > 0 {
		return nil, fmt.Errorf("unexpected argument %q (see '%s --help')", rest[0], synopsis)
	}
	return cfg, err
}

// parseWithArgs is parse for commands that take arguments (described by
// operands in the usage line); it returns them.
func parseWithArgs(synopsis, operands string, args []string, stdout io.Writer, names ...string) (*config.Config, []string, error) {
	cfg := &config.Config{}
	fs := config.FlagSet(synopsis, cfg, names...)
	if err := config.Parse(fs, args); err != nil {
		if errors.Is(err, flag.ErrHelp) {
			config.Usage(stdout, fs, synopsis+" [options] "+operands)
		}
		return nil, nil, err
	}
	return cfg, fs.Args(), cfg.Validate()
}

// Serve runs the platform until ctx is cancelled (SIGINT/SIGTERM).
func Serve(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parse("carnet serve", args, stdout,
		append([]string{"addr", "demo", "max-body", "max-document", "terminology", "directory-keys", "shutdown-timeout", "pprof", "memory-limit"}, storageOptions...)...)
	if err != nil {
		return err
	}
	tuneGC(cfg.MemoryLimit)
	log := newLogger(cfg, stderr)
	a, err := Open(ctx, cfg, log)
	if err != nil {
		return err
	}
	defer a.Close()
	h := a.Handler()
	var pop *demo.Population
	documents := 0
	if cfg.Demo {
		if pop, err = seedDemo(ctx, h); err != nil {
			return err
		}
		if documents, err = seedDemoDocuments(ctx, h); err != nil {
			return err
		}
	}
	return server.Run(ctx, cfg.Addr, h, cfg.ShutdownTimeout, log, func(addr net.Addr) {
		fmt.Fprintf(stdout, "carnet %s listening on http://%s\n", version(), addr)
		if pop != nil {
			demoBanner(stdout, pop, "http://"+addr.String())
			fmt.Fprintf(stdout, "demo: %d documents (PDF and CDA) in the patients' records\n", documents)
		}
		fmt.Fprintf(stdout, "data: %s\n", describe(cfg))
	})
}

// Migrate applies pending migrations and reports the schema version.
func Migrate(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, err := parse("carnet migrate", args, stdout, "data", "database", "log-level", "log-format")
	if err != nil {
		return err
	}
	st, err := openStore(ctx, cfg)
	if err != nil {
		return err
	}
	defer st.Close()
	if err := st.Migrate(ctx); err != nil {
		return err
	}
	v, err := st.SchemaVersion(ctx)
	if err != nil {
		return err
	}
	fmt.Fprintf(stdout, "%s database at schema version %d\n", st.Engine(), v)
	return nil
}

// Version prints the version of the binary.
func Version(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	fmt.Fprintln(stdout, "carnet", version())
	return nil
}

// version is the module version, or the VCS revision of a development build.
func version() string {
	info, ok := debug.ReadBuildInfo()
	if !ok {
		return "(unknown)"
	}
	if v := info.Main.Version; v != "" && v != "(devel)" {
		return v
	}
	rev, dirty := "", ""
	for _, s := range info.Settings {
		switch s.Key {
		case "vcs.revision":
			rev = s.Value
		case "vcs.modified":
			if s.Value == "true" {
				dirty = "+dirty"
			}
		}
	}
	if len(rev) > 12 {
		rev = rev[:12]
	}
	if rev == "" {
		return "devel"
	}
	return "devel-" + rev + dirty
}
