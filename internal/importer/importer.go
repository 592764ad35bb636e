// Package importer loads FHIR data into a carnet through its FHIR API:
// transaction and batch Bundles as they are, NDJSON files (one resource a
// line) as batches. Going through the API, whether a running server's or an
// in-process one, means every rule of the platform applies to imported data.
// A file that fails does not stop the others; every failure is reported
// with its file and entry.
package importer

import (
	"bufio"
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"io/fs"
	"net/http"
	"os"
	"path/filepath"
	"sort"
	"strings"
	"sync"
	"time"
)

// Failure is one thing that could not be imported.
type Failure struct {
	File string
	// Entry is the index of the Bundle entry, or the line number of an
	// NDJSON file (from 1); -1 when the whole file failed.
	Entry   int
	Message string
}

func (f Failure) String() string {
	switch {
	case f.Entry < 0:
		return fmt.Sprintf("%s: %s", f.File, f.Message)
	case strings.HasSuffix(f.File, ".ndjson"):
		return fmt.Sprintf("%s:%d: %s", f.File, f.Entry, f.Message)
	default:
		return fmt.Sprintf("%s: entry %d: %s", f.File, f.Entry, f.Message)
	}
}

// Summary is what an import did.
type Summary struct {
	Files     int
	Resources int // entries the server accepted
	Elapsed   time.Duration
	Failures  []Failure
}

// PerSecond is the import throughput in resources per second.
func (s *Summary) PerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Resources) / s.Elapsed.Seconds()
}

// Options tune an import.
type Options struct {
	// Workers is how many files are sent at once (default 2).
	Workers int
	// BatchSize is how many NDJSON lines go in one batch (default 200).
	BatchSize int
	// Progress is told how many bytes of input were done, and with how
	// many resources accepted so far; nil for none.
	Progress func(bytesDone int64, resources int)
}

// Files expands paths (files, or directories searched for *.json and
// *.ndjson) into a sorted list, with their total size.
func Files(paths []string) ([]string, int64, error) {
	var files []string
	var total int64
	for _, p := range paths {
		err := filepath.WalkDir(p, func(path string, d fs.DirEntry, err error) error {
			if err != nil {
				return err
			}
			if d.IsDir() || path != p && !isData(path) {
				return nil
			}
			info, err := d.Info()
			if err != nil {
				return err
			}
			files = append(files, path)
			total += info.Size()
			return nil
		})
		if err != nil {
			return nil, 0, fmt.Errorf("import: %w", err)
		}
	}
	if len(files) == 0 {
		return nil, 0, fmt.Errorf("import: no .json or .ndjson file in %s", strings.Join(paths, ", "))
	}
	sort.Strings(files)
	return files, total, nil
}

func isData(path string) bool {
	return strings.HasSuffix(path, ".json") || strings.HasSuffix(path, ".ndjson")
}

// Run imports files through the FHIR API at base (e.g. http://host/fhir)
// using client.
func Run(ctx context.Context, client *http.Client, base string, files []string, opt Options) *Summary {
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	if opt.BatchSize <= 0 {
		opt.BatchSize = 200
	}
	im := &importer{client: client, base: strings.TrimSuffix(base, "/"), opt: opt}
	start := time.Now()
	work := make(chan string)
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Go(func() {
			for f := range work {
				im.file(ctx, f)
			}
		})
	}
	for _, f := range files {
		if ctx.Err() != nil {
			break
		}
		work <- f
	}
	close(work)
	wg.Wait()
	im.sum.Files = len(files)
	im.sum.Elapsed = time.Since(start)
	sort.SliceStable(im.sum.Failures, func(i, j int) bool { return im.sum.Failures[i].File < im.sum.Failures[j].File })
	return &im.sum
}

type importer struct {
	client *http.Client
	base   string
	opt    Options

	mu    sync.Mutex
	sum   Summary
	bytes int64
}

func (im *importer) done(bytes int64, accepted int, failures ...Failure) {
	im.mu.Lock()
	defer im.mu.Unlock()
	im.bytes += bytes
	im.sum.Resources += accepted
	im.sum.Failures = append(im.sum.Failures, failures...)
	if im.opt.Progress != nil {
		im.opt.Progress(im.bytes, im.sum.Resources)
	}
}

func (im *importer) file(ctx context.Context, path string) {
	if strings.HasSuffix(path, ".ndjson") {
		im.ndjson(ctx, path)
		return
	}
	body, err := os.ReadFile(path)
	if err != nil {
		im.done(0, 0, Failure{path, -1, err.Error()})
		return
	}
	var head struct {
		ResourceType string `json:"resourceType"`
		Type         string `json:"type"`
		Entry        []json.RawMessage
	}
	if err := json.Unmarshal(body, &head); err != nil {
		im.done(int64(len(body)), 0, Failure{path, -1, "not JSON: " + err.Error()})
		return
	}
	if head.ResourceType != "Bundle" || head.Type != "transaction" && head.Type != "batch" {
		im.done(int64(len(body)), 0, Failure{path, -1, fmt.Sprintf("a %s of type %q: want a transaction or batch Bundle (or an .ndjson file)", head.ResourceType, head.Type)})
		return
	}
	accepted, failures := im.post(ctx, path, body, func(i int) int { return i })
	im.done(int64(len(body)), accepted, failures...)
}

// ndjson sends the resources of an NDJSON file as batch Bundles: an entry
// with an id is a PUT (so a rerun updates instead of duplicating), one
// without a POST.
func (im *importer) ndjson(ctx context.Context, path string) {
	f, err := os.Open(path)
	if err != nil {
		im.done(0, 0, Failure{path, -1, err.Error()})
		return
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 1<<20), 64<<20)
	var entries []any
	var lines []int
	var pending int64
	flush := func() {
		if len(entries) == 0 {
			return
		}
		body, _ := json.Marshal(map[string]any{"resourceType": "Bundle", "type": "batch", "entry": entries})
		at := lines
		accepted, failures := im.post(ctx, path, body, func(i int) int { return at[i] })
		im.done(pending, accepted, failures...)
		entries, lines, pending = nil, nil, 0
	}
	line := 0
	for sc.Scan() {
		line++
		pending += int64(len(sc.Bytes())) + 1
		raw := bytes.TrimSpace(sc.Bytes())
		if len(raw) == 0 {
			continue
		}
		var res map[string]any
		if err := json.Unmarshal(raw, &res); err != nil {
			im.done(0, 0, Failure{path, line, "not JSON: " + err.Error()})
			continue
		}
		typ, _ := res["resourceType"].(string)
		req := map[string]any{"method": "POST", "url": typ}
		if id, ok := res["id"].(string); ok && id != "" {
			req = map[string]any{"method": "PUT", "url": typ + "/" + id}
		}
		entries = append(entries, map[string]any{"resource": json.RawMessage(raw), "request": req})
		lines = append(lines, line)
		if len(entries) == im.opt.BatchSize {
			flush()
		}
	}
	flush()
	if err := sc.Err(); err != nil {
		im.done(0, 0, Failure{path, line + 1, err.Error()})
	}
}

// post sends one Bundle and returns how many entries were accepted and the
// failures, entry indexes mapped by at (to NDJSON line numbers).
func (im *importer) post(ctx context.Context, path string, body []byte, at func(int) int) (int, []Failure) {
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, im.base, bytes.NewReader(body))
	if err != nil {
		return 0, []Failure{{path, -1, err.Error()}}
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("Prefer", "return=minimal")
	resp, err := im.client.Do(req)
	if err != nil {
		return 0, []Failure{{path, -1, err.Error()}}
	}
	defer resp.Body.Close()
	var reply struct {
		ResourceType string `json:"resourceType"`
		Issue        []issue
		Entry        []struct {
			Response struct {
				Status  string
				Outcome *struct{ Issue []issue }
			}
		}
	}
	if err := json.NewDecoder(io.LimitReader(resp.Body, 256<<20)).Decode(&reply); err != nil {
		return 0, []Failure{{path, -1, fmt.Sprintf("HTTP %d with an unreadable body: %v", resp.StatusCode, err)}}
	}
	if resp.StatusCode >= 300 || reply.ResourceType != "Bundle" {
		return 0, []Failure{{path, -1, fmt.Sprintf("HTTP %d: %s", resp.StatusCode, describe(reply.Issue))}}
	}
	accepted := 0
	var failures []Failure
	for i, e := range reply.Entry {
		if strings.HasPrefix(e.Response.Status, "2") {
			accepted++
			continue
		}
		msg := e.Response.Status
		if e.Response.Outcome != nil {
			msg += ": " + describe(e.Response.Outcome.Issue)
		}
		failures = append(failures, Failure{path, at(i), msg})
	}
	return accepted, failures
}

type issue struct {
	Severity    string
	Diagnostics string
	Expression  []string
}

// describe turns OperationOutcome issues into one line.
func describe(issues []issue) string {
	var parts []string
	for _, is := range issues {
		if is.Severity != "error" && is.Severity != "fatal" {
			continue
		}
		s := is.Diagnostics
		if len(is.Expression) > 0 {
			s = strings.Join(is.Expression, ", ") + ": " + s
		}
		parts = append(parts, s)
	}
	if len(parts) == 0 {
		return "no reason given"
	}
	return strings.Join(parts, "; ")
}

// ErrFailures is returned by commands when some data could not be imported.
var ErrFailures = errors.New("some data could not be imported")
