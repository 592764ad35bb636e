// Package dirimport loads the public extract of the national directory of
// health professionals (Annuaire Santé) into carnet through its FHIR API,
// a running server's or an in-process one, so that every rule of the API
// applies to what it loads.
//
// The extract is streamed (extract.Reader): its resources are PUT by id,
// a hundred at a time, in transaction Bundles, a few Bundles in flight at
// once; memory stays bounded whatever the size of the file. Ids are
// derived from national identifiers and the API writes nothing for a PUT
// equal to the current version, so a rerun creates nothing and an updated
// extract only writes what changed. A row the reader rejects, or a
// resource the API refuses, is reported with its line number, and the
// import goes on.
package dirimport

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"io"
	"net/http"
	"strings"
	"sync"
	"time"

	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/directory/extract"
)

// Options tune an import.
type Options struct {
	// Validator checks the identifiers of each row (see
	// directory.Validator for the keys that can be switched off); use the
	// same as the API's, or rows the reader accepts are refused there.
	Validator directory.Validator
	// Batch is how many resources go in one transaction Bundle (default
	// 200: fewer, larger transactions, each one commit, fsync included).
	Batch int
	// Workers is how many Bundles are sent at once (default 2).
	Workers int
	// Progress is told, after each Bundle is queued, how many bytes of the
	// file were read and how many rows.
	Progress func(bytes int64, rows int)
	// Report is told of each rejected row or refused resource, and of
	// each warning the API gave; calls are serialised.
	Report func(Problem)
}

// Problem is a rejected row, a resource the API refused, or a warning.
type Problem struct {
	// Line is the line of the row in the file (the header is line 1); for
	// a resource, the first row of the professional it comes from.
	Line int
	// Resource is "Type/id" when the API refused the resource or warned
	// about it, "" for a row the reader rejected.
	Resource string
	Message  string
	Warning  bool
}

func (p Problem) String() string {
	s := fmt.Sprintf("line %d: ", p.Line)
	if p.Resource != "" {
		s += p.Resource + ": "
	}
	if p.Warning {
		s += "warning: "
	}
	return s + p.Message
}

// Summary is what an import did.
type Summary struct {
	Rows     int // data rows read
	Rejected int // rows the reader rejected
	// Created, Updated and Unchanged count the resources the API stored
	// as new, stored as a new version, or found equal to their current
	// version; Refused those it refused, Warnings its warnings.
	Created, Updated, Unchanged, Refused, Warnings int
	Elapsed                                        time.Duration
}

// RowsPerSecond is the throughput of the import.
func (s *Summary) RowsPerSecond() float64 {
	if s.Elapsed <= 0 {
		return 0
	}
	return float64(s.Rows) / s.Elapsed.Seconds()
}

// Run imports the extract read from r through the FHIR API at base
// (".../fhir") using client. It returns an error when the file cannot be
// read as an extract, when the API cannot be reached or fails (5xx), or
// when ctx ends; rejected rows and refused resources are reported, not
// errors.
func Run(ctx context.Context, client *http.Client, base string, r io.Reader, opt Options) (*Summary, error) {
	if opt.Batch <= 0 {
		opt.Batch = 200
	}
	if opt.Workers <= 0 {
		opt.Workers = 2
	}
	start := time.Now()
	in := &lineCounter{r: r}
	rd, err := extract.NewReader(in, opt.Validator)
	if err != nil {
		return nil, err
	}
	im := &importer{client: client, base: strings.TrimSuffix(base, "/"), opt: opt}
	ctx, cancel := context.WithCancelCause(ctx)
	defer cancel(nil)
	work := make(chan *chunk, opt.Workers)
	var wg sync.WaitGroup
	for range opt.Workers {
		wg.Go(func() {
			for c := range work {
				if err := im.send(ctx, c); err != nil {
					cancel(err)
				}
			}
		})
	}
	err = im.read(ctx, rd, in, work)
	close(work)
	wg.Wait()
	im.sum.Rows = in.rows()
	im.sum.Elapsed = time.Since(start)
	if cause := context.Cause(ctx); cause != nil && err == nil {
		err = cause
	}
	return &im.sum, err
}

type importer struct {
	client *http.Client
	base   string
	opt    Options

	mu  sync.Mutex
	sum Summary
}

// report records a problem and tells Options.Report.
func (im *importer) report(p Problem) {
	im.mu.Lock()
	defer im.mu.Unlock()
	switch {
	case p.Warning:
		im.sum.Warnings++
	case p.Resource != "":
		im.sum.Refused++
	default:
		im.sum.Rejected++
	}
	if im.opt.Report != nil {
		im.opt.Report(p)
	}
}

// read streams the extract into chunks of resources sent to work.
func (im *importer) read(ctx context.Context, rd *extract.Reader, in *lineCounter, work chan<- *chunk) error {
	c := newChunk()
	flush := func() error {
		if len(c.entries) == 0 {
			return nil
		}
		select {
		case work <- c:
		case <-ctx.Done():
			return context.Cause(ctx)
		}
		c = newChunk()
		if im.opt.Progress != nil {
			im.opt.Progress(in.n, in.rows())
		}
		return nil
	}
	for {
		g, err := rd.Next()
		var rowErr *extract.RowError
		switch {
		case errors.Is(err, io.EOF):
			return flush()
		case errors.As(err, &rowErr):
			im.report(Problem{Line: rowErr.Line, Message: rowErr.Reason})
			continue
		case err != nil:
			return err
		}
		for _, res := range g.Organizations {
			c.add(res, g.Line)
		}
		c.add(g.Practitioner, g.Line)
		for _, res := range g.Roles {
			c.add(res, g.Line)
		}
		if len(c.entries) >= im.opt.Batch {
			if err := flush(); err != nil {
				return err
			}
		}
	}
}

// chunk is the content of one Bundle: PUT entries, each with the line of
// the row it comes from.
type chunk struct {
	entries []bundleEntry
	lines   []int
	at      map[string]int // index of each Type/id: a Bundle writes a resource once
}

type bundleEntry struct {
	Resource json.RawMessage `json:"resource"`
	Request  struct {
		Method string `json:"method"`
		URL    string `json:"url"`
	} `json:"request"`
}

func newChunk() *chunk { return &chunk{at: map[string]int{}} }

// add queues a PUT of res; a resource already queued (the Practitioner
// of a professional whose rows are not consecutive) is replaced.
func (c *chunk) add(res extract.Resource, line int) {
	var e bundleEntry
	e.Resource = res.JSON
	e.Request.Method, e.Request.URL = http.MethodPut, res.Type+"/"+res.ID
	if i, ok := c.at[e.Request.URL]; ok {
		c.entries[i], c.lines[i] = e, line
		return
	}
	c.at[e.Request.URL] = len(c.entries)
	c.entries = append(c.entries, e)
	c.lines = append(c.lines, line)
}

// send posts a chunk as a transaction. When the API refuses it (4xx),
// some resource is at fault: the chunk goes again as a batch, whose
// answer tells which.
func (im *importer) send(ctx context.Context, c *chunk) error {
	reply, status, err := im.post(ctx, "transaction", c)
	if err != nil {
		return err
	}
	if status >= 400 && status < 500 {
		if reply, status, err = im.post(ctx, "batch", c); err != nil {
			return err
		}
	}
	if status >= 300 || reply.ResourceType != "Bundle" || len(reply.Entry) != len(c.entries) {
		return fmt.Errorf("directory import: the API answered HTTP %d: %s", status, describe(reply.Issue, "error"))
	}
	var created, updated, unchanged int
	for i, e := range reply.Entry {
		line, url := c.lines[i], c.entries[i].Request.URL
		var issues []issue
		if e.Response.Outcome != nil {
			issues = e.Response.Outcome.Issue
		}
		if !strings.HasPrefix(e.Response.Status, "2") {
			im.report(Problem{Line: line, Resource: url, Message: e.Response.Status + ": " + describe(issues, "error")})
			continue
		}
		switch {
		case strings.HasPrefix(e.Response.Status, "201"):
			created++
		case len(issues) > 0 && strings.HasPrefix(issues[0].Diagnostics, "unchanged "):
			unchanged++
		default:
			updated++
		}
		for _, is := range issues {
			if is.Severity == "warning" {
				im.report(Problem{Line: line, Resource: url, Message: is.text(), Warning: true})
			}
		}
	}
	im.mu.Lock()
	im.sum.Created += created
	im.sum.Updated += updated
	im.sum.Unchanged += unchanged
	im.mu.Unlock()
	return nil
}

// reply is the part of a Bundle response (or OperationOutcome) read here.
type reply struct {
	ResourceType string
	Issue        []issue
	Entry        []struct {
		Response struct {
			Status  string
			Outcome *struct{ Issue []issue }
		}
	}
}

type issue struct {
	Severity    string
	Diagnostics string
	Expression  []string
}

func (is issue) text() string {
	if len(is.Expression) > 0 && !strings.HasPrefix(is.Diagnostics, is.Expression[0]) {
		return is.Expression[0] + ": " + is.Diagnostics
	}
	return is.Diagnostics
}

// describe joins the issues of a severity into one line.
func describe(issues []issue, severity string) string {
	var parts []string
	for _, is := range issues {
		if is.Severity == severity || severity == "error" && is.Severity == "fatal" {
			parts = append(parts, is.text())
		}
	}
	if len(parts) == 0 {
		return "no reason given"
	}
	return strings.Join(parts, "; ")
}

// post sends the chunk as a Bundle of type typ, asking each entry for an
// OperationOutcome (what was done, and the warnings). A 5xx answer is an
// error: the server, not the data, is at fault.
func (im *importer) post(ctx context.Context, typ string, c *chunk) (*reply, int, error) {
	body, err := json.Marshal(struct {
		ResourceType string        `json:"resourceType"`
		Type         string        `json:"type"`
		Entry        []bundleEntry `json:"entry"`
	}{"Bundle", typ, c.entries})
	if err != nil {
		return nil, 0, err
	}
	req, err := http.NewRequestWithContext(ctx, http.MethodPost, im.base, bytes.NewReader(body))
	if err != nil {
		return nil, 0, err
	}
	req.Header.Set("Content-Type", "application/fhir+json")
	req.Header.Set("Accept", "application/fhir+json")
	req.Header.Set("Prefer", "return=OperationOutcome")
	resp, err := im.client.Do(req)
	if err != nil {
		return nil, 0, fmt.Errorf("directory import: %w", err)
	}
	defer resp.Body.Close()
	var r reply
	if err := json.NewDecoder(io.LimitReader(resp.Body, 64<<20)).Decode(&r); err != nil {
		return nil, 0, fmt.Errorf("directory import: HTTP %d with an unreadable body: %v", resp.StatusCode, err)
	}
	if resp.StatusCode >= 500 {
		return nil, 0, fmt.Errorf("directory import: the API answered HTTP %d: %s", resp.StatusCode, describe(r.Issue, "error"))
	}
	return &r, resp.StatusCode, nil
}

// lineCounter counts the bytes and lines read through it.
type lineCounter struct {
	r     io.Reader
	n     int64
	lines int
	last  byte
}

func (l *lineCounter) Read(p []byte) (int, error) {
	n, err := l.r.Read(p)
	if n > 0 {
		l.n += int64(n)
		l.lines += bytes.Count(p[:n], []byte{'\n'})
		l.last = p[n-1]
	}
	return n, err
}

// rows is the number of data rows read so far: lines after the header,
// the last one counted even without its newline.
func (l *lineCounter) rows() int {
	n := l.lines
	if l.n > 0 && l.last != '\n' {
		n++
	}
	return max(n-1, 0)
}
