package main_test

import (
	"bytes"
	"context"
	"crypto/rand"
	"crypto/sha1"
	"encoding/base64"
	"encoding/json"
	"fmt"
	"io"
	"net/http"
	"net/url"
	"path/filepath"
	"strings"
	"sync"
	"sync/atomic"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/clitest"
	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/store/postgres"
	"github.com/carnet-sante/carnet/internal/store/sqlite"
	"github.com/carnet-sante/carnet/internal/testenv"
)

// attempt is one deposit sent during the crash test.
type attempt struct {
	master, setID string
	data          []byte
	acked         bool // answered 2xx
}

// TestDepositCrash SIGKILLs the server in the middle of a burst of
// concurrent deposits, restarts it on the same data, and checks that
// nothing is half-written: every deposit acknowledged with a 2xx is
// there, complete and readable; every other one is either all there or
// not at all; no DocumentReference points at missing bytes; and there is
// one outbox event per document.
func TestDepositCrash(t *testing.T) {
	for _, engine := range []string{"sqlite", "postgres"} {
		t.Run(engine, func(t *testing.T) {
			data := t.TempDir()
			args := []string{"--data", data, "--log-level", "warn"}
			var open func() (store.Store, error)
			if engine == "postgres" {
				dbURL := testenv.PostgresURL(t)
				args = append(args, "--database", dbURL)
				open = func() (store.Store, error) { return postgres.Open(context.Background(), dbURL) }
			} else {
				open = func() (store.Store, error) {
					return sqlite.Open(context.Background(), filepath.Join(data, "carnet.db"))
				}
			}
			srv := clitest.Serve(t, nil, args...)

			var (
				mu       sync.Mutex
				attempts []*attempt
				acked    atomic.Int64
				stop     atomic.Bool
				wg       sync.WaitGroup
			)
			client := &http.Client{Timeout: 30 * time.Second}
			for w := range 12 {
				wg.Add(1)
				go func() {
					defer wg.Done()
					for i := 0; !stop.Load(); i++ {
						a := &attempt{master: "urn:uuid:" + randomUUID(), setID: "urn:uuid:" + randomUUID(), data: make([]byte, 20000+w*7919+i)}
						rand.Read(a.data)
						mu.Lock()
						attempts = append(attempts, a)
						mu.Unlock()
						// Three patients, first deposits included: named by
						// test INS, their records open on the way.
						subject := "Patient?identifier=urn:oid:1.2.250.1.213.1.4.10|" + []string{"279035121518989", "180017505600103", "185037505600181"}[w%3]
						resp, err := client.Post(srv.URL+"/fhir", "application/fhir+json", bytes.NewReader(provideBundle(subject, a)))
						if err != nil {
							return // the server is gone
						}
						io.Copy(io.Discard, resp.Body)
						resp.Body.Close()
						if resp.StatusCode/100 == 2 {
							a.acked = true
							acked.Add(1)
						} else if resp.StatusCode != http.StatusConflict {
							t.Errorf("deposit: HTTP %d", resp.StatusCode)
							return
						}
					}
				}()
			}
			deadline := time.Now().Add(30 * time.Second)
			for acked.Load() < 40 && time.Now().Before(deadline) {
				time.Sleep(10 * time.Millisecond)
			}
			srv.Kill(t)
			stop.Store(true)
			wg.Wait()
			if acked.Load() == 0 {
				t.Fatal("no deposit was acknowledged before the crash")
			}

			srv = clitest.Serve(t, nil, args...)
			docs := 0
			for _, a := range attempts {
				ids := searchIDs(t, srv, "DocumentReference?identifier="+url.QueryEscape("urn:ietf:rfc:3986|"+a.master))
				sets := searchIDs(t, srv, "List?identifier="+url.QueryEscape("urn:ietf:rfc:3986|"+a.setID))
				switch {
				case len(ids) > 1:
					t.Errorf("%s: %d documents", a.master, len(ids))
				case len(ids) == 0 && a.acked:
					t.Errorf("%s: acknowledged, but not there after the crash", a.master)
				case len(ids) != len(sets):
					t.Errorf("%s: half a deposit: %d documents, %d submission sets", a.master, len(ids), len(sets))
				case len(ids) == 1:
					docs++
					if got := retrieve(t, srv, ids[0]); !bytes.Equal(got, a.data) {
						t.Errorf("%s: %d bytes back, %d deposited", a.master, len(got), len(a.data))
					}
				}
			}
			// Every DocumentReference, whatever deposit made it, points at
			// its bytes.
			all := searchIDs(t, srv, "DocumentReference?_count=1000")
			if len(all) != docs {
				t.Errorf("%d documents stored, %d found by their deposits", len(all), docs)
			}
			for _, id := range all {
				retrieve(t, srv, id)
			}
			t.Logf("%d deposits sent, %d acknowledged, %d stored", len(attempts), acked.Load(), docs)
			srv.Stop(t)

			s, err := open()
			if err != nil {
				t.Fatal(err)
			}
			defer s.Close()
			events, err := s.Events(context.Background(), time.Time{}, 100000)
			if err != nil || len(events) != docs {
				t.Errorf("%d outbox events for %d documents (%v)", len(events), docs, err)
			}
		})
	}
}

// provideBundle is an ITI-65 Provide Document Bundle of one PDF.
func provideBundle(subject string, a *attempt) []byte {
	sum := sha1.Sum(a.data)
	coded := func(system, code string) map[string]any {
		return map[string]any{"coding": []any{map[string]any{"system": system, "code": code}}}
	}
	nos := func(table string) string {
		return "https://mos.esante.gouv.fr/NOS/" + table + "/FHIR/" + strings.Replace(table, "_", "-", 1)
	}
	b := map[string]any{"resourceType": "Bundle", "type": "transaction", "entry": []any{
		map[string]any{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000001", "request": map[string]any{"method": "POST", "url": "List"}, "resource": map[string]any{
			"resourceType": "List",
			"identifier":   []any{map[string]any{"use": "usual", "system": "urn:ietf:rfc:3986", "value": a.setID}},
			"status":       "current", "mode": "working", "date": "2025-05-01T10:00:00+02:00",
			"code":    coded("https://profiles.ihe.net/ITI/MHD/CodeSystem/MHDlistTypes", "submissionset"),
			"subject": map[string]any{"reference": subject},
			"source":  map[string]any{"reference": "Practitioner/810101201234"},
			"entry":   []any{map[string]any{"item": map[string]any{"reference": "urn:uuid:00000000-0000-4000-8000-000000000002"}}},
		}},
		map[string]any{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000002", "request": map[string]any{"method": "POST", "url": "DocumentReference"}, "resource": map[string]any{
			"resourceType":     "DocumentReference",
			"contained":        []any{map[string]any{"resourceType": "PractitionerRole", "id": "a", "identifier": []any{map[string]any{"system": "https://rpps.esante.gouv.fr", "value": "10101201234"}}}},
			"masterIdentifier": map[string]any{"system": "urn:ietf:rfc:3986", "value": a.master},
			"status":           "current",
			"type":             coded("http://loinc.org", "11502-2"),
			"category":         []any{coded(nos("TRE_A03-ClasseDocument"), "10")},
			"subject":          map[string]any{"reference": subject},
			"date":             "2025-05-01T10:00:00+02:00",
			"author":           []any{map[string]any{"reference": "#a"}},
			"custodian":        map[string]any{"reference": "Organization/lab"},
			"securityLabel":    []any{coded("http://terminology.hl7.org/CodeSystem/v3-Confidentiality", "N")},
			"content": []any{map[string]any{"attachment": map[string]any{
				"contentType": "application/pdf", "url": "urn:uuid:00000000-0000-4000-8000-000000000003",
				"size": len(a.data), "hash": base64.StdEncoding.EncodeToString(sum[:]), "title": "CR de biologie",
			}}},
			"context": map[string]any{"period": map[string]any{"start": "2025-05-01T08:00:00+02:00"}},
		}},
		map[string]any{"fullUrl": "urn:uuid:00000000-0000-4000-8000-000000000003", "request": map[string]any{"method": "POST", "url": "Binary"}, "resource": map[string]any{
			"resourceType": "Binary", "contentType": "application/pdf", "data": base64.StdEncoding.EncodeToString(a.data),
		}},
	}}
	body, _ := json.Marshal(b)
	return body
}

// searchIDs runs a search on the server and returns the ids it matches.
func searchIDs(t *testing.T, srv *clitest.Server, query string) []string {
	t.Helper()
	code, body := srv.Get(t, "/fhir/"+query)
	if code != http.StatusOK {
		t.Fatalf("GET %s: %d %s", query, code, body)
	}
	var b struct {
		Entry []struct {
			Resource struct{ ID string }
			Search   struct{ Mode string }
		}
	}
	if err := json.Unmarshal([]byte(body), &b); err != nil {
		t.Fatal(err)
	}
	var ids []string
	for _, e := range b.Entry {
		if e.Search.Mode == "match" {
			ids = append(ids, e.Resource.ID)
		}
	}
	return ids
}

// retrieve gets the bytes of a document (ITI-68) and checks them
// against the hash its DocumentReference gives.
func retrieve(t *testing.T, srv *clitest.Server, id string) []byte {
	t.Helper()
	code, body := srv.Get(t, "/fhir/DocumentReference/"+id)
	var dr struct {
		Content []struct{ Attachment struct{ URL, Hash string } }
	}
	if code != http.StatusOK || json.Unmarshal([]byte(body), &dr) != nil || len(dr.Content) != 1 {
		t.Fatalf("DocumentReference/%s: %d %s", id, code, body)
	}
	code, data := srv.Get(t, "/fhir/"+dr.Content[0].Attachment.URL)
	sum := sha1.Sum([]byte(data))
	if code != http.StatusOK || base64.StdEncoding.EncodeToString(sum[:]) != dr.Content[0].Attachment.Hash {
		t.Errorf("DocumentReference/%s points at %s: %d, not its bytes", id, dr.Content[0].Attachment.URL, code)
	}
	return []byte(data)
}

func randomUUID() string {
	var b [16]byte
	rand.Read(b[:])
	b[6], b[8] = b[6]&0x0f|0x40, b[8]&0x3f|0x80
	return fmt.Sprintf("%x-%x-%x-%x-%x", b[0:4], b[4:6], b[6:8], b[8:10], b[10:])
}

// TestDemoDocuments: `serve --demo` deposits a few hundred PDF and CDA
// documents across the demo patients, readable, and a restart deposits
// nothing new.
func TestDemoDocuments(t *testing.T) {
	data := t.TempDir()
	count := func(srv *clitest.Server, query string) int {
		code, body := srv.Get(t, "/fhir/DocumentReference?_summary=count&"+query)
		var b struct{ Total int }
		if code != http.StatusOK || json.Unmarshal([]byte(body), &b) != nil {
			t.Fatalf("count %s: %d %s", query, code, body)
		}
		return b.Total
	}
	srv := clitest.Serve(t, nil, "--data", data, "--demo")
	total, cda, pdf := count(srv, ""), count(srv, "format=urn:asip:ci-sis:2010"), count(srv, "format=urn:ihe:iti:xds-sd:pdf:2008")
	if total < 200 || cda == 0 || pdf == 0 || cda+pdf != total {
		t.Errorf("%d documents: %d CDA, %d PDF; want a few hundred of both", total, cda, pdf)
	}
	for _, id := range searchIDs(t, srv, "DocumentReference?_count=5") {
		retrieve(t, srv, id)
	}
	srv.Stop(t)
	srv = clitest.Serve(t, nil, "--data", data, "--demo")
	if again := count(srv, ""); again != total {
		t.Errorf("after a restart, %d documents, not %d", again, total)
	}
}
