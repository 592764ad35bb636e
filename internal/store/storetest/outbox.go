package storetest

import (
	"errors"
	"slices"
	"testing"
	"time"

	"github.com/carnet-sante/carnet/internal/store"
)

// outboxTests cover the transactional outbox: events commit with the
// writes of their transaction, or not at all.
var outboxTests = []Test{
	{"Outbox/CommitsWithWrites", testOutboxCommits},
	{"Outbox/RolledBack", testOutboxRollback},
	{"Outbox/DuplicateFailsTransaction", testOutboxDuplicate},
	{"Outbox/CallerMistakes", testOutboxMistakes},
	{"Outbox/Order", testOutboxOrder},
}

// event builds an event of patient key pk at baseTime plus offset.
func event(pk, id string, offset time.Duration) store.Event {
	return store.Event{ID: id, Type: "document.deposited", PatientKey: pk, Subject: "DocumentReference/" + id, Time: baseTime.Add(offset)}
}

// events reads every event of the patient keys given, oldest first.
func events(t *testing.T, s store.Store, keys ...string) []store.Event {
	t.Helper()
	all, err := s.Events(t.Context(), time.Time{}, 10000)
	if err != nil {
		t.Fatalf("Events: %v", err)
	}
	var out []store.Event
	for _, e := range all {
		if slices.Contains(keys, e.PatientKey) {
			out = append(out, e)
		}
	}
	return out
}

func testOutboxCommits(t *testing.T, h Harness) {
	s := h.openMigrated(t)
	ctx := t.Context()
	pk := NewPatientKey()
	w := newWrite(t, `{"resourceType":"Patient","id":"`+pk+`"}`, 1, baseTime)
	err := s.Update(ctx, func(tx store.ResourceTx) error {
		if err := tx.Write(ctx, w); err != nil {
			return err
		}
		return tx.Emit(ctx, event(pk, "e1", time.Microsecond))
	})
	if err != nil {
		t.Fatalf("Update: %v", err)
	}
	got := events(t, s, pk)
	want := []store.Event{event(pk, "e1", time.Microsecond)}
	if len(got) != 1 || got[0] != want[0] || got[0].Time.Location() != time.UTC {
		t.Fatalf("events = %+v, want %+v", got, want)
	}
	read(t, s, "Patient", pk)
}

func testOutboxRollback(t *testing.T, h Harness) {
	s := h.openMigrated(t)
	ctx := t.Context()
	pk := NewPatientKey()
	boom := errors.New("boom")
	err := s.Update(ctx, func(tx store.ResourceTx) error {
		if err := tx.Emit(ctx, event(pk, "e1", 0)); err != nil {
			return err
		}
		return boom
	})
	if !errors.Is(err, boom) {
		t.Fatalf("Update = %v, want the function's error", err)
	}
	if got := events(t, s, pk); len(got) != 0 {
		t.Fatalf("a rolled back transaction left events: %+v", got)
	}
}

// testOutboxDuplicate checks that an event id used twice for one patient
// fails the whole transaction, writes included, even if the function
// ignores the error.
func testOutboxDuplicate(t *testing.T, h Harness) {
	s := h.openMigrated(t)
	ctx := t.Context()
	pk := NewPatientKey()
	if err := s.Update(ctx, func(tx store.ResourceTx) error { return tx.Emit(ctx, event(pk, "e1", 0)) }); err != nil {
		t.Fatalf("first Update: %v", err)
	}
	w := newWrite(t, `{"resourceType":"Patient","id":"`+pk+`"}`, 1, baseTime)
	err := s.Update(ctx, func(tx store.ResourceTx) error {
		if err := tx.Write(ctx, w); err != nil {
			return err
		}
		tx.Emit(ctx, event(pk, "e1", time.Second)) // error ignored on purpose
		return nil
	})
	if err == nil {
		t.Fatal("Update with a duplicate event id succeeded")
	}
	if _, err := s.Read(ctx, "Patient", pk); !errors.Is(err, store.ErrNotFound) {
		t.Fatalf("the write of the failed transaction is visible: Read = %v", err)
	}
	if got := events(t, s, pk); len(got) != 1 {
		t.Fatalf("events = %+v, want the first one only", got)
	}
	// Another patient may use the same id.
	other := NewPatientKey()
	if err := s.Update(ctx, func(tx store.ResourceTx) error { return tx.Emit(ctx, event(other, "e1", 0)) }); err != nil {
		t.Fatalf("same id for another patient: %v", err)
	}
}

func testOutboxMistakes(t *testing.T, h Harness) {
	s := h.openMigrated(t)
	ctx := t.Context()
	pk := NewPatientKey()
	for name, e := range map[string]store.Event{
		"no id":          {Type: "x", PatientKey: pk, Time: baseTime},
		"no type":        {ID: "e", PatientKey: pk, Time: baseTime},
		"no patient key": {ID: "e", Type: "x", Time: baseTime},
		"no time":        {ID: "e", Type: "x", PatientKey: pk},
	} {
		err := s.Update(ctx, func(tx store.ResourceTx) error { return tx.Emit(ctx, e) })
		if err == nil {
			t.Errorf("%s: Emit accepted %+v", name, e)
		}
	}
	if _, err := s.Events(ctx, time.Time{}, 0); err == nil {
		t.Error("Events with limit 0 succeeded")
	}
	if got := events(t, s, pk); len(got) != 0 {
		t.Fatalf("refused events were stored: %+v", got)
	}
}

// testOutboxOrder checks the order across patients, since and limit.
func testOutboxOrder(t *testing.T, h Harness) {
	s := h.openMigrated(t)
	ctx := t.Context()
	a, b := NewPatientKey(), NewPatientKey()
	in := []store.Event{event(a, "3", 3*time.Hour), event(b, "1", time.Hour), event(a, "2", 2*time.Hour)}
	for _, e := range in {
		if err := s.Update(ctx, func(tx store.ResourceTx) error { return tx.Emit(ctx, e) }); err != nil {
			t.Fatalf("Emit: %v", err)
		}
	}
	got := events(t, s, a, b)
	ids := make([]string, len(got))
	for i, e := range got {
		ids[i] = e.ID
	}
	if !slices.Equal(ids, []string{"1", "2", "3"}) {
		t.Fatalf("events in order %v, want [1 2 3]", ids)
	}
	since, err := s.Events(ctx, baseTime.Add(2*time.Hour), 1)
	if err != nil || len(since) != 1 || since[0].ID != "2" {
		t.Fatalf("Events(since 2h, limit 1) = %+v, %v; want event 2 first", since, err)
	}
}
