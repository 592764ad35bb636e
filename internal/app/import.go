package app

import (
	"context"
	"fmt"
	"io"
	"net/http"
	"net/http/httptest"
	"strings"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/carnet-sante/carnet/internal/importer"
)

// Import loads Bundles and NDJSON files, through a running server's API
// (--url) or, without it, through an in-process API on the stores of a
// stopped instance. Either way every rule of the API applies. `carnet
// import directory FILE` loads a directory extract (see ImportDirectory).
func Import(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	if len(args) > 0 && args[0] == "directory" {
		return ImportDirectory(ctx, args[1:], stdout, stderr)
	}
	cfg, paths, err := parseWithArgs("carnet import", "PATH…\n       carnet import directory [options] FILE (a directory extract; see 'carnet import directory --help')", args, stdout, append([]string{"url"}, storageOptions...)...)
	if err != nil {
		return err
	}
	if len(paths) == 0 {
		return fmt.Errorf("nothing to import: give files or directories of .json Bundles or .ndjson (see 'carnet import --help')")
	}
	files, total, err := importer.Files(paths)
	if err != nil {
		return err
	}

	client, base := &http.Client{Timeout: 10 * time.Minute}, strings.TrimSuffix(cfg.ServerURL, "/")
	if base == "" {
		a, err := Open(ctx, cfg, newLogger(cfg, io.Discard))
		if err != nil {
			return err
		}
		defer a.Close()
		client, base = &http.Client{Transport: inProcess{a.Handler()}}, "http://in-process"
	}
	if !strings.HasSuffix(base, "/fhir") {
		base += "/fhir"
	}

	bar := progressbar.NewOptions64(total,
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("importing"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	sum := importer.Run(ctx, client, base, files, importer.Options{
		Progress: func(done int64, resources int) {
			bar.Describe(fmt.Sprintf("importing (%d resources)", resources))
			_ = bar.Set64(done)
		},
	})
	_ = bar.Finish()

	fmt.Fprintf(stdout, "imported %d resources from %d files in %s: %.0f resources/s\n",
		sum.Resources, sum.Files, sum.Elapsed.Round(time.Millisecond), sum.PerSecond())
	if len(sum.Failures) > 0 {
		fmt.Fprintf(stdout, "%d errors:\n", len(sum.Failures))
		for _, f := range sum.Failures {
			fmt.Fprintln(stdout, "  "+f.String())
		}
		return fmt.Errorf("%d errors (listed above): %w", len(sum.Failures), importer.ErrFailures)
	}
	return ctx.Err()
}

// inProcess serves HTTP requests with a handler in this process, so that an
// offline import goes through exactly the API a server would run.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}
