package storetest

import (
	"bytes"
	"context"
	"encoding/json"
	"errors"
	"fmt"
	"slices"
	"strings"
	"sync"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/fhir/search"
	"github.com/carnet-sante/carnet/internal/fhir/searchparam"
	"github.com/carnet-sante/carnet/internal/store"
)

// resourceTests cover writing and reading resources: versions, conflicts,
// transactions, history.
var resourceTests = []Test{
	{"Resources/CreateRead", testCreateRead},
	{"Resources/Versions", testVersions},
	{"Resources/Delete", testDelete},
	{"Resources/Conflicts", testConflicts},
	{"Resources/CallerMistakes", testCallerMistakes},
	{"Resources/ConcurrentUpdates", testConcurrentUpdates},
	{"Resources/ConcurrentCreates", testConcurrentCreates},
	{"Resources/ConcurrentOutcomes", testConcurrentOutcomes},
	{"Resources/Rollback", testRollback},
	{"Resources/ConflictFailsTransaction", testConflictFailsTransaction},
	{"Resources/ReadOwnWrites", testReadOwnWrites},
	{"Resources/ManyInOneTransaction", testManyInOneTransaction},
	{"Resources/TransactionOver", testTransactionOver},
	{"Resources/History", testHistory},
	{"Resources/PatientKeyMove", testPatientKeyMove},
	{"Resources/Analyze", testAnalyze},
}

// baseTime is the LastUpdated of the first version the tests write.
var baseTime = time.Date(2024, 1, 1, 0, 0, 0, 0, time.UTC)

// newWrite builds the write of a resource given as JSON, as the server
// does: index values from searchparam.Extract, patient key from
// searchparam.PatientRefs. The content is the JSON as given.
func newWrite(t testing.TB, src string, version int64, lastUpdated time.Time) store.Write {
	t.Helper()
	d := json.NewDecoder(strings.NewReader(src))
	d.UseNumber()
	var res map[string]any
	if err := d.Decode(&res); err != nil {
		t.Fatalf("test resource %s: %v", src, err)
	}
	w, err := writeOf(res, []byte(src), version, lastUpdated)
	if err != nil {
		t.Fatalf("test resource %s: %v", src, err)
	}
	return w
}

// writeOf builds the write of a decoded resource whose JSON is content.
func writeOf(res map[string]any, content []byte, version int64, lastUpdated time.Time) (store.Write, error) {
	typ, _ := res["resourceType"].(string)
	id, _ := res["id"].(string)
	index, err := searchparam.Extract(typ, res)
	if err != nil {
		return store.Write{}, err
	}
	patientKey := ""
	if refs := searchparam.PatientRefs(typ, res); len(refs) > 0 {
		patientKey = refs[0]
	}
	return store.Write{
		Resource: store.Resource{
			Type: typ, ID: id, PatientKey: patientKey,
			Version: version, LastUpdated: lastUpdated, Content: content,
		},
		ExpectVersion: version - 1,
		Index:         index,
	}, nil
}

// deletion builds the write that deletes the current version of r.
func deletion(r store.Resource, lastUpdated time.Time) store.Write {
	return store.Write{
		Resource: store.Resource{
			Type: r.Type, ID: r.ID, PatientKey: r.PatientKey,
			Version: r.Version + 1, LastUpdated: lastUpdated, Deleted: true,
		},
		ExpectVersion: r.Version,
	}
}

// write stores writes in one transaction, failing the test on error.
func write(t testing.TB, s store.Store, ws ...store.Write) {
	t.Helper()
	if err := writeAll(t.Context(), s, ws...); err != nil {
		t.Fatalf("write: %v", err)
	}
}

func writeAll(ctx context.Context, s store.Store, ws ...store.Write) error {
	return s.Update(ctx, func(tx store.ResourceTx) error {
		for _, w := range ws {
			if err := tx.Write(ctx, w); err != nil {
				return err
			}
		}
		return nil
	})
}

// create stores version 1 of each resource given as JSON, all with
// LastUpdated baseTime.
func create(t testing.TB, s store.Store, srcs ...string) {
	t.Helper()
	ws := make([]store.Write, len(srcs))
	for i, src := range srcs {
		ws[i] = newWrite(t, src, 1, baseTime)
	}
	write(t, s, ws...)
}

// read reads the current version of a resource, failing the test on error.
func read(t testing.TB, s store.Store, typ, id string) store.Resource {
	t.Helper()
	r, err := s.Read(t.Context(), typ, id)
	if err != nil {
		t.Fatalf("Read(%s/%s): %v", typ, id, err)
	}
	return r
}

// checkResource compares a resource read back with what was written.
func checkResource(t testing.TB, what string, got store.Resource, want store.Resource) {
	t.Helper()
	if got.Type != want.Type || got.ID != want.ID || got.PatientKey != want.PatientKey ||
		got.Version != want.Version || got.Deleted != want.Deleted ||
		!got.LastUpdated.Equal(want.LastUpdated) || got.LastUpdated.Location() != time.UTC ||
		!bytes.Equal(got.Content, want.Content) {
		t.Errorf("%s = %s; want %s", what, describe(got), describe(want))
	}
}

func describe(r store.Resource) string {
	return fmt.Sprintf("{%s/%s patient %q v%d %s deleted=%v %q}",
		r.Type, r.ID, r.PatientKey, r.Version, r.LastUpdated.Format(time.RFC3339Nano), r.Deleted, r.Content)
}

// ids returns "Type/id" of resources, sorted.
func ids(rs []store.Resource) []string {
	out := make([]string, len(rs))
	for i, r := range rs {
		out[i] = r.Type + "/" + r.ID
	}
	slices.Sort(out)
	return out
}

// mustSearch runs a query, failing the test on error.
func mustSearch(t testing.TB, s store.Resources, q *search.Query) *store.Page {
	t.Helper()
	p, err := s.Search(t.Context(), q)
	if err != nil {
		t.Fatalf("Search(%+v): %v", *q, err)
	}
	return p
}

const (
	patientP1 = `{"resourceType":"Patient","id":"p1","name":[{"family":"Dupré","given":["Élodie"]}],"birthDate":"1980-05-12"}`
	patientP2 = `{"resourceType":"Patient","id":"p2","name":[{"family":"Martin","given":["Jean"]}],"birthDate":"1975"}`
)

func testCreateRead(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	lastUpdated := time.Date(2024, 3, 5, 10, 11, 12, 123456000, time.FixedZone("CET", 3600))
	obs := `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/p1"},"code":{"text":"Taille"}}`
	practitioner := `{"resourceType":"Practitioner","id":"pr1","name":[{"family":"House"}]}`
	ws := []store.Write{
		newWrite(t, patientP1, 1, lastUpdated),
		newWrite(t, obs, 1, lastUpdated),
		newWrite(t, practitioner, 1, lastUpdated),
	}
	write(t, s, ws...)
	for i, want := range []store.Resource{
		{Type: "Patient", ID: "p1", PatientKey: "p1", Version: 1, LastUpdated: lastUpdated, Content: []byte(patientP1)},
		{Type: "Observation", ID: "o1", PatientKey: "p1", Version: 1, LastUpdated: lastUpdated, Content: []byte(obs)},
		{Type: "Practitioner", ID: "pr1", PatientKey: "", Version: 1, LastUpdated: lastUpdated, Content: []byte(practitioner)},
	} {
		checkResource(t, "Read("+want.Type+"/"+want.ID+")", read(t, s, want.Type, want.ID), want)
		got, err := s.ReadVersion(ctx, want.Type, want.ID, 1)
		if err != nil {
			t.Fatal(err)
		}
		checkResource(t, "ReadVersion(1)", got, ws[i].Resource)
	}
	for _, tc := range []struct{ typ, id string }{
		{"Patient", "nobody"}, {"Observation", "p1"}, {"Practitioner", ""},
	} {
		if r, err := s.Read(ctx, tc.typ, tc.id); !errors.Is(err, store.ErrNotFound) {
			t.Errorf("Read(%s/%s) = %s, %v; want ErrNotFound", tc.typ, tc.id, describe(r), err)
		}
	}
	if r, err := s.ReadVersion(ctx, "Patient", "p1", 2); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("ReadVersion(Patient/p1, 2) = %s, %v; want ErrNotFound", describe(r), err)
	}
}

func testVersions(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	var written []store.Write
	for v := int64(1); v <= 3; v++ {
		src := fmt.Sprintf(`{"resourceType":"Patient","id":"p1","name":[{"family":"Version%d"}]}`, v)
		w := newWrite(t, src, v, baseTime.Add(time.Duration(v)*time.Hour))
		write(t, s, w)
		written = append(written, w)
	}
	checkResource(t, "Read", read(t, s, "Patient", "p1"), written[2].Resource)
	for _, w := range written {
		got, err := s.ReadVersion(ctx, "Patient", "p1", w.Version)
		if err != nil {
			t.Fatal(err)
		}
		checkResource(t, fmt.Sprintf("ReadVersion(%d)", w.Version), got, w.Resource)
	}
	// The index follows the current version only.
	for family, want := range map[string][]string{"version3": {"Patient/p1"}, "version1": {}} {
		p := mustSearch(t, s, parse(t, "Patient", "family="+family))
		if got := ids(p.Resources); !slices.Equal(got, want) {
			t.Errorf("family=%s: %v; want %v", family, got, want)
		}
	}
}

func testDelete(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	create(t, s, patientP1)
	del := deletion(read(t, s, "Patient", "p1"), baseTime.Add(time.Hour))
	write(t, s, del)
	got := read(t, s, "Patient", "p1")
	checkResource(t, "Read after deletion", got, store.Resource{
		Type: "Patient", ID: "p1", PatientKey: "p1", Version: 2, LastUpdated: del.LastUpdated, Deleted: true, Content: []byte{},
	})
	for _, q := range []string{"", "name=dupre", "_id=p1"} {
		if p := mustSearch(t, s, parse(t, "Patient", q)); len(p.Resources) != 0 {
			t.Errorf("Patient?%s after deletion found %v", q, ids(p.Resources))
		}
	}
	// Updating a deleted resource as if it still existed is a conflict;
	// creating it again (ExpectVersion 0) gives it the next version.
	stale := newWrite(t, patientP1, 2, baseTime.Add(2*time.Hour))
	if err := writeAll(ctx, s, stale); !errors.Is(err, store.ErrConflict) {
		t.Errorf("update of the deleted version's predecessor: %v; want ErrConflict", err)
	}
	again := newWrite(t, patientP1, 3, baseTime.Add(2*time.Hour))
	again.ExpectVersion = 0
	write(t, s, again)
	checkResource(t, "Read after re-creation", read(t, s, "Patient", "p1"), again.Resource)
	if p := mustSearch(t, s, parse(t, "Patient", "name=dupre")); !slices.Equal(ids(p.Resources), []string{"Patient/p1"}) {
		t.Errorf("after re-creation, name=dupre found %v", ids(p.Resources))
	}
}

func testConflicts(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	create(t, s, patientP1)
	v2 := newWrite(t, patientP2, 2, baseTime)
	v2.ID = "p1"
	write(t, s, v2)

	for _, tc := range []struct {
		name string
		w    store.Write
	}{
		{"create of an existing resource", newWrite(t, patientP1, 1, baseTime)},
		{"update of an old version", func() store.Write {
			w := newWrite(t, patientP1, 2, baseTime)
			return w // expects 1, current is 2
		}()},
		{"update of a newer version than the current", newWrite(t, patientP1, 4, baseTime)},
		{"update of a resource that does not exist", newWrite(t, patientP2, 2, baseTime)},
		{"re-creation at a version that does not follow", func() store.Write {
			w := newWrite(t, patientP2, 5, baseTime)
			w.ExpectVersion = 0
			return w
		}()},
	} {
		err := writeAll(ctx, s, tc.w)
		if !errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: %v; want ErrConflict", tc.name, err)
		} else {
			t.Logf("%s: %v", tc.name, err)
		}
	}
	checkResource(t, "Read after the conflicts", read(t, s, "Patient", "p1"), v2.Resource)
}

// testCallerMistakes checks that writes no current version could make
// right are refused as errors, not conflicts.
func testCallerMistakes(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	good := newWrite(t, patientP1, 1, baseTime)
	for _, tc := range []struct {
		name  string
		spoil func(w *store.Write)
	}{
		{"no type", func(w *store.Write) { w.Type = "" }},
		{"no id", func(w *store.Write) { w.ID = "" }},
		{"version 0", func(w *store.Write) { w.Version = 0 }},
		{"version not ExpectVersion+1", func(w *store.Write) { w.ExpectVersion, w.Version = 1, 3 }},
		{"no LastUpdated", func(w *store.Write) { w.LastUpdated = time.Time{} }},
		{"no content", func(w *store.Write) { w.Content = nil }},
		{"index value without Param", func(w *store.Write) { w.Index = append(w.Index, searchparam.Value{Text: "x"}) }},
	} {
		w := good
		w.Index = slices.Clone(good.Index)
		tc.spoil(&w)
		err := writeAll(ctx, s, w)
		if err == nil || errors.Is(err, store.ErrConflict) {
			t.Errorf("%s: %v; want an error other than ErrConflict", tc.name, err)
		}
	}
	if _, err := s.Read(ctx, "Patient", "p1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("a refused write left a resource: %v", err)
	}
}

// testConcurrentUpdates has several writers update the same version of a
// resource at once: exactly one must win, the others get ErrConflict.
func testConcurrentUpdates(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	create(t, s, patientP1)
	const writers = 8
	errs := make([]error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		w := newWrite(t, fmt.Sprintf(`{"resourceType":"Patient","id":"p1","name":[{"family":"Writer%d"}]}`, i), 2, baseTime)
		wg.Go(func() {
			<-start
			errs[i] = s.Update(ctx, func(tx store.ResourceTx) error {
				if _, err := tx.Read(ctx, "Patient", "p1"); err != nil {
					return err
				}
				return tx.Write(ctx, w)
			})
		})
	}
	close(start)
	wg.Wait()
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("writer %d: %v; want nil or ErrConflict", i, err)
		}
	}
	if winners != 1 {
		t.Errorf("%d writers succeeded; want exactly 1 (errors: %v)", winners, errs)
	}
	if r := read(t, s, "Patient", "p1"); r.Version != 2 {
		t.Errorf("after the race, version %d; want 2", r.Version)
	}
	p := mustSearch(t, s, parse(t, "Patient", "family=writer"))
	if len(p.Resources) != 1 {
		t.Errorf("the index holds %d resources for the writers; want 1", len(p.Resources))
	}
}

// testConcurrentCreates has several writers create the same new resource,
// each filing it under a different patient key, where no primary key can
// tell them apart: exactly one must win.
func testConcurrentCreates(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	const writers = 8
	errs := make([]error, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		w := newWrite(t, fmt.Sprintf(`{"resourceType":"Observation","id":"shared","status":"final","subject":{"reference":"Patient/p%d"}}`, i), 1, baseTime)
		wg.Go(func() {
			<-start
			errs[i] = writeAll(ctx, s, w)
		})
	}
	close(start)
	wg.Wait()
	winners := 0
	for i, err := range errs {
		switch {
		case err == nil:
			winners++
		case !errors.Is(err, store.ErrConflict):
			t.Errorf("writer %d: %v; want nil or ErrConflict", i, err)
		}
	}
	if winners != 1 {
		t.Errorf("%d writers created Observation/shared; want exactly 1", winners)
	}
	if p := mustSearch(t, s, parse(t, "Observation", "")); len(p.Resources) != 1 {
		t.Errorf("%d Observations stored; want 1", len(p.Resources))
	}
}

// testRollback checks that a transaction whose function fails leaves
// nothing behind: no resource, no version, no index row.
func testRollback(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	create(t, s, patientP2)
	failure := errors.New("the caller gave up")
	err := s.Update(ctx, func(tx store.ResourceTx) error {
		if err := tx.Write(ctx, newWrite(t, patientP1, 1, baseTime)); err != nil {
			return err
		}
		if err := tx.Write(ctx, deletion(read(t, s, "Patient", "p2"), baseTime)); err != nil {
			return err
		}
		if _, err := tx.Read(ctx, "Patient", "p1"); err != nil { // flushes the writes
			return err
		}
		return failure
	})
	if !errors.Is(err, failure) {
		t.Fatalf("Update = %v; want the function's error", err)
	}
	if _, err := s.Read(ctx, "Patient", "p1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("Read of the rolled back creation: %v; want ErrNotFound", err)
	}
	if h, err := s.History(ctx, "Patient", "p1", time.Time{}, 0); err != nil || len(h) != 0 {
		t.Errorf("History of the rolled back creation: %d versions, %v; want none", len(h), err)
	}
	if r := read(t, s, "Patient", "p2"); r.Deleted || r.Version != 1 {
		t.Errorf("the rolled back deletion stuck: %s", describe(r))
	}
	p := mustSearch(t, s, parse(t, "Patient", "name=dupre,martin"))
	if got := ids(p.Resources); !slices.Equal(got, []string{"Patient/p2"}) {
		t.Errorf("index after the rollback: %v; want [Patient/p2]", got)
	}
}

// testConflictFailsTransaction checks that a conflict fails the whole
// transaction, even when the function ignores the error it was given.
func testConflictFailsTransaction(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	create(t, s, patientP1)
	err := s.Update(ctx, func(tx store.ResourceTx) error {
		tx.Write(ctx, newWrite(t, patientP2, 1, baseTime))
		tx.Write(ctx, newWrite(t, patientP1, 1, baseTime)) // exists: conflict
		tx.Read(ctx, "Patient", "p2")                      // flushes, fails, ignored
		return nil
	})
	if !errors.Is(err, store.ErrConflict) {
		t.Fatalf("Update = %v; want ErrConflict", err)
	}
	if _, err := s.Read(ctx, "Patient", "p2"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the other write of the failed transaction stuck: %v", err)
	}
}

func testReadOwnWrites(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	err := s.Update(ctx, func(tx store.ResourceTx) error {
		if err := tx.Write(ctx, newWrite(t, patientP1, 1, baseTime)); err != nil {
			return err
		}
		r, err := tx.Read(ctx, "Patient", "p1")
		if err != nil || r.Version != 1 {
			t.Errorf("Read in the transaction = %s, %v; want version 1", describe(r), err)
		}
		p, err := tx.Search(ctx, parse(t, "Patient", "name=elodie"))
		if err != nil || !slices.Equal(ids(p.Resources), []string{"Patient/p1"}) {
			t.Errorf("Search in the transaction: %v; want [Patient/p1]", err)
		}
		// A second version of the same resource in the same transaction.
		w := newWrite(t, patientP1, 2, baseTime.Add(time.Second))
		w.PatientKey = "elsewhere"
		return tx.Write(ctx, w)
	})
	if err != nil {
		t.Fatal(err)
	}
	if r := read(t, s, "Patient", "p1"); r.Version != 2 || r.PatientKey != "elsewhere" {
		t.Errorf("after commit: %s; want version 2 under patient key elsewhere", describe(r))
	}
}

// testManyInOneTransaction writes more resources in one transaction than
// the store queues before flushing, with many index rows each.
func testManyInOneTransaction(t *testing.T, h Harness) {
	s := h.openMigrated(t)
	const n = 1100
	ws := make([]store.Write, n)
	for i := range ws {
		ws[i] = newWrite(t, fmt.Sprintf(`{"resourceType":"Observation","id":"o%d","status":"final",
			"subject":{"reference":"Patient/p%d"},"code":{"coding":[{"system":"http://loinc.org","code":"c%d"}]},
			"effectiveDateTime":"2020-01-01","valueQuantity":{"value":%d,"system":"http://unitsofmeasure.org","code":"kg"}}`,
			i, i%10, i%7, i), 1, baseTime)
	}
	write(t, s, ws...)
	q := parse(t, "Observation", "code=c3&_total=accurate&_count=5")
	p := mustSearch(t, s, q)
	if want := (n + 3) / 7; p.Total != want {
		t.Errorf("code=c3 total = %d; want %d", p.Total, want)
	}
	q = parse(t, "Observation", "_total=accurate&_count=1")
	q.Compartment = "p4"
	if p := mustSearch(t, s, q); p.Total != n/10 {
		t.Errorf("compartment p4 total = %d; want %d", p.Total, n/10)
	}
}

func testTransactionOver(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	var kept store.ResourceTx
	if err := s.Update(ctx, func(tx store.ResourceTx) error { kept = tx; return nil }); err != nil {
		t.Fatal(err)
	}
	if err := kept.Write(ctx, newWrite(t, patientP1, 1, baseTime)); err == nil {
		t.Error("Write after Update returned succeeded")
	}
	if _, err := s.Read(ctx, "Patient", "p1"); !errors.Is(err, store.ErrNotFound) {
		t.Errorf("the late write was stored: %v", err)
	}
}

func testHistory(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	at := func(hours int) time.Time { return baseTime.Add(time.Duration(hours) * time.Hour) }
	// Patient/p1: v1 at 1h, v2 at 3h, deleted (v3) at 5h; Patient/p2: v1 at
	// 2h, v2 at 4h; Observation/o1 v1 at 6h.
	write(t, s, newWrite(t, patientP1, 1, at(1)))
	write(t, s, newWrite(t, patientP2, 1, at(2)))
	write(t, s, newWrite(t, patientP1, 2, at(3)))
	write(t, s, newWrite(t, patientP2, 2, at(4)))
	write(t, s, deletion(read(t, s, "Patient", "p1"), at(5)))
	write(t, s, newWrite(t, `{"resourceType":"Observation","id":"o1","status":"final"}`, 1, at(6)))

	versions := func(rs []store.Resource) []string {
		out := make([]string, len(rs))
		for i, r := range rs {
			out[i] = fmt.Sprintf("%s/%s/%d", r.Type, r.ID, r.Version)
			if r.Deleted {
				out[i] += "(deleted)"
			}
		}
		return out
	}
	for _, tc := range []struct {
		name    string
		typ, id string
		since   time.Time
		count   int
		want    []string
	}{
		{"instance", "Patient", "p1", time.Time{}, 0, []string{"Patient/p1/3(deleted)", "Patient/p1/2", "Patient/p1/1"}},
		{"instance, count", "Patient", "p1", time.Time{}, 2, []string{"Patient/p1/3(deleted)", "Patient/p1/2"}},
		{"instance, since (inclusive)", "Patient", "p1", at(3), 0, []string{"Patient/p1/3(deleted)", "Patient/p1/2"}},
		{"unknown instance", "Patient", "p9", time.Time{}, 0, []string{}},
		{"type", "Patient", "", time.Time{}, 0, []string{"Patient/p1/3(deleted)", "Patient/p2/2", "Patient/p1/2", "Patient/p2/1", "Patient/p1/1"}},
		{"type, since", "Patient", "", at(4), 0, []string{"Patient/p1/3(deleted)", "Patient/p2/2"}},
		{"type, since and count", "Patient", "", at(2), 3, []string{"Patient/p1/3(deleted)", "Patient/p2/2", "Patient/p1/2"}},
		{"other type", "Observation", "", time.Time{}, 0, []string{"Observation/o1/1"}},
	} {
		got, err := s.History(ctx, tc.typ, tc.id, tc.since, tc.count)
		if err != nil {
			t.Errorf("%s: %v", tc.name, err)
			continue
		}
		if !slices.Equal(versions(got), tc.want) {
			t.Errorf("%s: %v; want %v", tc.name, versions(got), tc.want)
		}
	}
	if _, err := s.History(ctx, "", "", time.Time{}, 0); err == nil {
		t.Error("History without a type succeeded")
	}
}

// testPatientKeyMove changes the patient of a resource: its current
// version, its history and its index rows must all follow.
func testPatientKeyMove(t *testing.T, h Harness) {
	ctx := t.Context()
	s := h.openMigrated(t)
	obs := func(patient string) string {
		return `{"resourceType":"Observation","id":"o1","status":"final","subject":{"reference":"Patient/` + patient + `"},"code":{"text":"Taille"}}`
	}
	write(t, s, newWrite(t, obs("a"), 1, baseTime))
	write(t, s, newWrite(t, obs("a"), 2, baseTime.Add(time.Hour)))
	moved := newWrite(t, obs("b"), 3, baseTime.Add(2*time.Hour))
	write(t, s, moved)

	checkResource(t, "Read after the move", read(t, s, "Observation", "o1"), moved.Resource)
	history, err := s.History(ctx, "Observation", "o1", time.Time{}, 0)
	if err != nil {
		t.Fatal(err)
	}
	if len(history) != 3 {
		t.Fatalf("history has %d versions; want 3", len(history))
	}
	for _, r := range history {
		if r.PatientKey != "b" {
			t.Errorf("version %d still under patient key %q; want b", r.Version, r.PatientKey)
		}
	}
	if r, err := s.ReadVersion(ctx, "Observation", "o1", 1); err != nil || string(r.Content) != obs("a") {
		t.Errorf("ReadVersion(1) after the move = %s, %v", describe(r), err)
	}
	for _, tc := range []struct {
		patient string
		want    []string
	}{{"a", []string{}}, {"b", []string{"Observation/o1"}}} {
		q := parse(t, "Observation", "code:text=taille")
		q.Compartment = tc.patient
		if got := ids(mustSearch(t, s, q).Resources); !slices.Equal(got, tc.want) {
			t.Errorf("compartment %s: %v; want %v", tc.patient, got, tc.want)
		}
	}
	// And back, deleted on the way.
	del := deletion(read(t, s, "Observation", "o1"), baseTime.Add(3*time.Hour))
	del.PatientKey = "a"
	write(t, s, del)
	if r := read(t, s, "Observation", "o1"); r.PatientKey != "a" || !r.Deleted {
		t.Errorf("after the deletion under a: %s", describe(r))
	}
	if history, _ := s.History(ctx, "Observation", "o1", time.Time{}, 0); len(history) != 4 || history[3].PatientKey != "a" {
		t.Errorf("history after moving back: %d versions", len(history))
	}
}

// testAnalyze checks that both engines can refresh their planner
// statistics, as an import does after loading.
func testAnalyze(t *testing.T, h Harness) {
	s := h.openMigrated(t)
	create(t, s, patientP1, patientP2)
	a, ok := s.(interface{ Analyze(context.Context) error })
	if !ok {
		t.Fatalf("%s store has no Analyze method", s.Engine())
	}
	if err := a.Analyze(t.Context()); err != nil {
		t.Fatalf("Analyze: %v", err)
	}
	if p := mustSearch(t, s, parse(t, "Patient", "name=dupre")); len(p.Resources) != 1 {
		t.Errorf("after Analyze, name=dupre found %v", ids(p.Resources))
	}
}

// testConcurrentOutcomes runs many Updates at once, some of which fail in
// every way an Update can: each must keep its own outcome, whatever
// transaction the engine ran it in (SQLite commits waiting Updates
// together). Only the ones that succeed leave resources, index rows and
// events.
func testConcurrentOutcomes(t *testing.T, h Harness) {
	s := h.openMigrated(t)
	create(t, s, patientP1)
	refused := errors.New("refused by the caller")
	cancelled, cancel := context.WithCancel(t.Context())
	cancel()
	kinds := []struct {
		name    string
		ctx     context.Context
		after   func(tx store.ResourceTx) error // after writing and emitting
		succeed bool
		check   func(err error, panicked any) bool
	}{
		{"succeeds", t.Context(), func(store.ResourceTx) error { return nil }, true,
			func(err error, p any) bool { return err == nil && p == nil }},
		{"returns an error", t.Context(), func(store.ResourceTx) error { return refused }, false,
			func(err error, p any) bool { return errors.Is(err, refused) }},
		{"conflicts", t.Context(), func(tx store.ResourceTx) error {
			return tx.Write(t.Context(), newWrite(t, patientP1, 1, baseTime))
		}, false, func(err error, p any) bool { return errors.Is(err, store.ErrConflict) }},
		{"panics", t.Context(), func(store.ResourceTx) error { panic("boom") }, false,
			func(err error, p any) bool { return p == "boom" }},
		{"is cancelled", cancelled, func(store.ResourceTx) error { return nil }, false,
			func(err error, p any) bool { return errors.Is(err, context.Canceled) }},
	}
	const writers = 40
	type result struct {
		err      error
		panicked any
	}
	results := make([]result, writers)
	start := make(chan struct{})
	var wg sync.WaitGroup
	for i := range writers {
		k := kinds[i%len(kinds)]
		id := fmt.Sprintf("c%d", i)
		w := newWrite(t, `{"resourceType":"Patient","id":"`+id+`","name":[{"family":"Concurrent"}]}`, 1, baseTime)
		wg.Go(func() {
			<-start
			defer func() { results[i].panicked = recover() }()
			results[i].err = s.Update(k.ctx, func(tx store.ResourceTx) error {
				if err := tx.Write(k.ctx, w); err != nil {
					return err
				}
				if err := tx.Emit(k.ctx, event(id, "e"+id, 0)); err != nil {
					return err
				}
				return k.after(tx)
			})
		})
	}
	close(start)
	wg.Wait()

	var want []string
	for i, r := range results {
		k := kinds[i%len(kinds)]
		id := fmt.Sprintf("c%d", i)
		if !k.check(r.err, r.panicked) {
			t.Errorf("Update %s that %s: error %v, panic %v", id, k.name, r.err, r.panicked)
		}
		_, err := s.Read(t.Context(), "Patient", id)
		if stored := err == nil; stored != k.succeed {
			t.Errorf("Update %s that %s: stored %v (read: %v); want %v", id, k.name, stored, err, k.succeed)
		}
		if n := len(events(t, s, id)); n != map[bool]int{true: 1}[k.succeed] {
			t.Errorf("Update %s that %s: %d events; want %d", id, k.name, n, map[bool]int{true: 1}[k.succeed])
		}
		if k.succeed {
			want = append(want, id)
		}
	}
	p := mustSearch(t, s, parse(t, "Patient", "family=concurrent&_count=100"))
	var got []string
	for _, r := range p.Resources {
		got = append(got, r.ID)
	}
	slices.Sort(got)
	slices.Sort(want)
	if !slices.Equal(got, want) {
		t.Errorf("the index finds %v; want %v", got, want)
	}
	if r := read(t, s, "Patient", "p1"); r.Version != 1 {
		t.Errorf("Patient/p1 at version %d after the conflicting writes; want 1", r.Version)
	}
}
