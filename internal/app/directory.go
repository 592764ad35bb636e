package app

import (
	"context"
	"errors"
	"fmt"
	"io"
	"os"
	"time"

	"github.com/schollz/progressbar/v3"

	"github.com/carnet-sante/carnet/internal/dirimport"
)

// maxWarningsShown caps the warnings listed by `carnet import directory`;
// the summary counts them all.
const maxWarningsShown = 20

// errRejected is returned when some rows or resources were not imported.
var errRejected = errors.New("some rows of the directory extract were not imported")

// ImportDirectory loads a public directory extract (`carnet import
// directory FILE`), through a running server's API (--url) or an
// in-process one, with a progress bar; rejected rows are listed with
// their line as they come, then a summary with the throughput and the
// peak memory of the process.
func ImportDirectory(ctx context.Context, args []string, stdout, stderr io.Writer) error {
	cfg, files, err := parseWithArgs("carnet import directory", "FILE", args, stdout,
		append([]string{"url", "directory-keys", "terminology", "max-body"}, storageOptions...)...)
	if err != nil {
		return err
	}
	if len(files) != 1 {
		return fmt.Errorf("give one directory extract file (PS_LibreAcces_Personne_activite_….txt); see 'carnet import directory --help'")
	}
	f, err := os.Open(files[0])
	if err != nil {
		return err
	}
	defer f.Close()
	info, err := f.Stat()
	if err != nil {
		return err
	}
	client, base, done, err := apiClient(ctx, cfg, 10*time.Minute)
	if err != nil {
		return err
	}
	defer done()

	bar := progressbar.NewOptions64(info.Size(),
		progressbar.OptionSetWriter(stderr),
		progressbar.OptionSetDescription("importing"),
		progressbar.OptionShowBytes(true),
		progressbar.OptionThrottle(200*time.Millisecond),
		progressbar.OptionClearOnFinish(),
	)
	warnings := 0
	sum, err := dirimport.Run(ctx, client, base, f, dirimport.Options{
		Validator: directoryValidator(cfg),
		Progress: func(read int64, rows int) {
			bar.Describe(fmt.Sprintf("importing (%d rows)", rows))
			_ = bar.Set64(read)
		},
		Report: func(p dirimport.Problem) {
			if p.Warning {
				if warnings++; warnings > maxWarningsShown {
					return
				}
			}
			fmt.Fprintln(stdout, p)
		},
	})
	_ = bar.Finish()
	if err != nil {
		return err
	}
	mem := ""
	if peak, ok := peakMemory(); ok {
		mem = fmt.Sprintf(", peak memory %d MiB", peak>>20)
	}
	fmt.Fprintf(stdout, "%s: %d rows in %s: %.0f rows/s%s\n", files[0], sum.Rows, sum.Elapsed.Round(time.Millisecond), sum.RowsPerSecond(), mem)
	fmt.Fprintf(stdout, "  %d rows imported: %d resources created, %d updated, %d unchanged\n",
		sum.Rows-sum.Rejected, sum.Created, sum.Updated, sum.Unchanged)
	if sum.Warnings > 0 {
		fmt.Fprintf(stdout, "  %d warnings (the first %d listed above)\n", sum.Warnings, min(sum.Warnings, maxWarningsShown))
	}
	if sum.Rejected+sum.Refused == 0 {
		return nil
	}
	fmt.Fprintf(stdout, "  %d rows rejected, %d resources refused (listed above)\n", sum.Rejected, sum.Refused)
	return fmt.Errorf("%d rows rejected, %d resources refused (listed above): %w", sum.Rejected, sum.Refused, errRejected)
}
