// Command carnet runs the carnet shared health record platform. This file
// only dispatches subcommands; what each does lives in internal/app.
package main

import (
	"context"
	"errors"
	"flag"
	"fmt"
	"io"
	"os"
	"os/signal"
	"strings"
	"syscall"

	"github.com/carnet-sante/carnet/internal/app"
)

type command struct {
	name, summary string
	run           func(ctx context.Context, args []string, stdout, stderr io.Writer) error
}

var commands = []command{
	{"serve", "run the platform (HTTP API and portals)", app.Serve},
	{"migrate", "apply database migrations and exit", app.Migrate},
	{"import", "load FHIR Bundles and NDJSON files; 'import directory FILE' loads a directory extract", app.Import},
	{"identity", "identity review: 'identity duplicates' lists possible duplicate patients", app.Identity},
	{"bench", "measure throughput and latency on a server of its own or --url", app.Bench},
	{"version", "print the version", app.Version},
}

func main() {
	ctx, stop := signal.NotifyContext(context.Background(), os.Interrupt, syscall.SIGTERM)
	defer stop()
	os.Exit(run(ctx, os.Args[1:], os.Stdout, os.Stderr))
}

func run(ctx context.Context, args []string, stdout, stderr io.Writer) int {
	if len(args) == 0 || args[0] == "help" || args[0] == "-h" || args[0] == "--help" {
		usage(stdout)
		return 0
	}
	for _, c := range commands {
		if c.name != args[0] {
			continue
		}
		err := c.run(ctx, args[1:], stdout, stderr)
		switch {
		case err == nil, errors.Is(err, flag.ErrHelp):
			return 0
		default:
			fmt.Fprintf(stderr, "carnet %s: %s\n", c.name, oneLine(err))
			return 1
		}
	}
	fmt.Fprintf(stderr, "carnet: unknown command %q (see 'carnet help')\n", args[0])
	return 2
}

// oneLine folds a multi-line error (drivers list every address they
// tried) into the single stderr line the command-line contract promises.
func oneLine(err error) string {
	return strings.Join(strings.Fields(strings.ReplaceAll(err.Error(), "\n", "; ")), " ")
}

func usage(w io.Writer) {
	fmt.Fprintln(w, "carnet — shared health record platform\n\nusage: carnet <command> [options]\n\ncommands:")
	for _, c := range commands {
		fmt.Fprintf(w, "  %-10s %s\n", c.name, c.summary)
	}
	fmt.Fprintln(w, "\n'carnet <command> --help' lists the options of a command; every option can also be set with its CARNET_* environment variable.")
}
