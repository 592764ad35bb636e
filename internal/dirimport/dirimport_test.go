package dirimport_test

import (
	"bufio"
	"context"
	"encoding/json"
	"errors"
	"net/http"
	"net/http/httptest"
	"os"
	"path/filepath"
	"runtime"
	"strconv"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/directory"
	"github.com/carnet-sante/carnet/internal/directory/extract"
	"github.com/carnet-sante/carnet/internal/dirimport"
	"github.com/carnet-sante/carnet/internal/fhir/rest"
	"github.com/carnet-sante/carnet/internal/identity"
	"github.com/carnet-sante/carnet/internal/store/enginetest"
	"github.com/carnet-sante/carnet/internal/testenv"
)

var engines = enginetest.Engines

// inProcess serves requests with a handler, as `carnet import` does
// without --url.
type inProcess struct{ h http.Handler }

func (t inProcess) RoundTrip(r *http.Request) (*http.Response, error) {
	rec := httptest.NewRecorder()
	t.h.ServeHTTP(rec, r)
	return rec.Result(), nil
}

// rows is the size of the generated extract: the 200,000 rows of the
// acceptance test in CI (about two minutes for both engines on a quiet
// 2-core box), 10,000 elsewhere, or CARNET_TEST_DIRECTORY_ROWS.
func rows(t *testing.T) int {
	if s := os.Getenv("CARNET_TEST_DIRECTORY_ROWS"); s != "" {
		n, err := strconv.Atoi(s)
		if err != nil || n < 1 {
			t.Fatalf("CARNET_TEST_DIRECTORY_ROWS=%q: want a number of rows", s)
		}
		return n
	}
	if testenv.InCI() {
		return 200_000
	}
	return 10_000
}

// TestImportGenerated imports a generated extract with 2% invalid rows
// on each engine, through the API with the identity rules: every valid
// row is in, every invalid row is reported with its line, and a rerun
// creates nothing. It logs rows/s and the peak heap of the process.
func TestImportGenerated(t *testing.T) {
	n := rows(t)
	path := filepath.Join(t.TempDir(), "PS_LibreAcces_Personne_activite.txt")
	f, err := os.Create(path)
	if err != nil {
		t.Fatal(err)
	}
	gen, err := extract.Generate(f, n, 42, extract.GenerateOptions{InvalidFraction: 0.02, Structures: 2000})
	if err == nil {
		err = f.Close()
	}
	if err != nil {
		t.Fatal(err)
	}
	resources := gen.Practitioners + gen.Roles + gen.Organizations
	for _, e := range engines {
		t.Run(e.Name, func(t *testing.T) {
			t.Parallel()
			s := e.Open(t)
			defer s.Close()
			if err := s.Migrate(context.Background()); err != nil {
				t.Fatal(err)
			}
			h := rest.New(s, rest.Options{BaseURL: "http://in-process/fhir", Rules: identity.Rules(identity.Options{})})
			client := &http.Client{Transport: inProcess{h}}

			var mu sync.Mutex
			var rejected []int
			report := func(p dirimport.Problem) {
				mu.Lock()
				defer mu.Unlock()
				if p.Resource != "" || p.Message == "" {
					t.Errorf("unexpected problem: %s", p)
				}
				rejected = append(rejected, p.Line)
			}
			run := func() (*dirimport.Summary, uint64) {
				in, err := os.Open(path)
				if err != nil {
					t.Fatal(err)
				}
				defer in.Close()
				stop := sampleHeap()
				sum, err := dirimport.Run(context.Background(), client, "http://in-process/fhir", in, dirimport.Options{Report: report})
				peak := stop()
				if err != nil {
					t.Fatal(err)
				}
				return sum, peak
			}

			sum, peak := run()
			t.Logf("%s: first import of %d rows: %.0f rows/s, peak heap %d MiB (%s)", e.Name, sum.Rows, sum.RowsPerSecond(), peak>>20, sum.Elapsed.Round(time.Millisecond))
			if sum.Rows != n || sum.Rejected != gen.Invalid || sum.Refused != 0 || sum.Warnings != 0 {
				t.Errorf("summary %+v; want %d rows, %d rejected", *sum, n, gen.Invalid)
			}
			if sum.Created != resources || sum.Updated != 0 || sum.Unchanged != 0 {
				t.Errorf("created %d, updated %d, unchanged %d; want %d created", sum.Created, sum.Updated, sum.Unchanged, resources)
			}
			checkRejectedLines(t, path, rejected)
			for typ, want := range map[string]int{"Practitioner": gen.Practitioners, "PractitionerRole": gen.Roles, "Organization": gen.Organizations} {
				if got := total(t, client, typ+"?_summary=count"); got != want {
					t.Errorf("%d %s in the API, want %d", got, typ, want)
				}
			}

			before := time.Now().UTC()
			time.Sleep(2 * time.Millisecond)
			rejected = nil
			sum, peak = run()
			t.Logf("%s: rerun: %.0f rows/s, peak heap %d MiB (%s)", e.Name, sum.RowsPerSecond(), peak>>20, sum.Elapsed.Round(time.Millisecond))
			if sum.Created != 0 || sum.Updated != 0 || sum.Unchanged != resources || sum.Rejected != gen.Invalid {
				t.Errorf("rerun: %+v; want every resource unchanged", *sum)
			}
			for _, typ := range []string{"Practitioner", "PractitionerRole", "Organization"} {
				if got := total(t, client, typ+"/_history?_since="+before.Format(time.RFC3339Nano)); got != 0 {
					t.Errorf("the rerun wrote %d %s versions", got, typ)
				}
			}
		})
	}
}

// checkRejectedLines checks that each reported line holds a row the
// reader rejects on its own, and that none is reported twice.
func checkRejectedLines(t *testing.T, path string, lines []int) {
	t.Helper()
	want := map[int]bool{}
	for _, l := range lines {
		if want[l] {
			t.Errorf("line %d reported twice", l)
		}
		want[l] = true
	}
	f, err := os.Open(path)
	if err != nil {
		t.Fatal(err)
	}
	defer f.Close()
	sc := bufio.NewScanner(f)
	sc.Buffer(make([]byte, 64<<10), 1<<20)
	var header string
	for i := 1; sc.Scan(); i++ {
		if i == 1 {
			header = sc.Text()
			continue
		}
		if !want[i] {
			continue
		}
		rd, err := extract.NewReader(strings.NewReader(header+"\n"+sc.Text()+"\n"), directory.Validator{})
		if err != nil {
			t.Fatal(err)
		}
		var rowErr *extract.RowError
		if _, err := rd.Next(); !errors.As(err, &rowErr) {
			t.Errorf("line %d was reported, but the reader accepts it alone", i)
		}
	}
}

// total returns Bundle.total of a search or history, or the number of
// entries of a history.
func total(t *testing.T, client *http.Client, path string) int {
	t.Helper()
	resp, err := client.Get("http://in-process/fhir/" + path)
	if err != nil {
		t.Fatal(err)
	}
	defer resp.Body.Close()
	var b struct {
		Total *int
		Entry []any
	}
	if err := json.NewDecoder(resp.Body).Decode(&b); err != nil || resp.StatusCode != http.StatusOK {
		t.Fatalf("GET %s: %d %v", path, resp.StatusCode, err)
	}
	if b.Total != nil {
		return *b.Total
	}
	return len(b.Entry)
}

// sampleHeap samples the heap in use until the returned function is
// called, which returns the peak.
func sampleHeap() func() uint64 {
	var peak uint64
	done := make(chan struct{})
	stopped := make(chan struct{})
	go func() {
		defer close(stopped)
		var m runtime.MemStats
		tick := time.NewTicker(20 * time.Millisecond)
		defer tick.Stop()
		for {
			runtime.ReadMemStats(&m)
			peak = max(peak, m.HeapInuse)
			select {
			case <-done:
				return
			case <-tick.C:
			}
		}
	}()
	return func() uint64 {
		close(done)
		<-stopped
		return peak
	}
}
