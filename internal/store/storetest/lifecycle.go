package storetest

import (
	"testing"
)

// lifecycleTests cover opening, migrating, pinging and closing.
var lifecycleTests = []Test{
	{"Engine", testEngine},
	{"Ping", testPing},
	{"Migrate", testMigrate},
	{"Stats", testStats},
	{"Reopen", testReopen},
	{"ClosedStoreFails", testClosedStoreFails},
}

func testEngine(t *testing.T, h Harness) {
	s := h.openMigrated(t)
	if e := s.Engine(); e != "sqlite" && e != "postgres" {
		t.Errorf("Engine() = %q, want sqlite or postgres", e)
	}
}

func testPing(t *testing.T, h Harness) {
	s := h.openMigrated(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatalf("Ping: %v", err)
	}
}

// testMigrate checks that a new database starts at version 0, that Migrate
// brings it to the last embedded version, and that migrating again changes
// nothing.
func testMigrate(t *testing.T, h Harness) {
	ctx := t.Context()
	versions, err := MigrationVersions(h.Migrations)
	if err != nil || len(versions) == 0 {
		t.Fatalf("embedded migrations: %v, %v; want at least one", versions, err)
	}
	last := versions[len(versions)-1]
	s := h.openAt(t, h.NewDatabase(t))
	v0, err := s.SchemaVersion(ctx)
	if err != nil || v0 != 0 {
		t.Fatalf("new database: SchemaVersion() = %d, %v; want 0, nil", v0, err)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("Migrate: %v", err)
	}
	v1, err := s.SchemaVersion(ctx)
	if err != nil || v1 != last {
		t.Fatalf("after Migrate: SchemaVersion() = %d, %v; want the last migration, %d", v1, err, last)
	}
	if err := s.Migrate(ctx); err != nil {
		t.Fatalf("second Migrate: %v", err)
	}
	if v2, err := s.SchemaVersion(ctx); err != nil || v2 != v1 {
		t.Fatalf("after second Migrate: SchemaVersion() = %d, %v; want %d, nil", v2, err, v1)
	}
}

func testStats(t *testing.T, h Harness) {
	s := h.openMigrated(t)
	if err := s.Ping(t.Context()); err != nil {
		t.Fatal(err)
	}
	st := s.Stats()
	if st.Open < 1 || st.Idle < 1 || st.InUse != 0 || st.Idle+st.InUse > st.Open || st.Waits < 0 {
		t.Errorf("Stats() after a Ping, nothing running = %+v; want Open ≥ 1, Idle ≥ 1, InUse 0, Idle+InUse ≤ Open", st)
	}
}

// testReopen checks that what was committed survives closing the store.
func testReopen(t *testing.T, h Harness) {
	ctx := t.Context()
	addr := h.NewDatabase(t)
	s := h.openAt(t, addr)
	if err := s.Migrate(ctx); err != nil {
		t.Fatal(err)
	}
	version, err := s.SchemaVersion(ctx)
	if err != nil {
		t.Fatal(err)
	}
	patient, key := NewPatientKey(), []byte("wrapped key")
	if _, err := s.CreateWrappedKey(ctx, patient, key); err != nil {
		t.Fatal(err)
	}
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}

	s = h.openAt(t, addr)
	if v, err := s.SchemaVersion(ctx); err != nil || v != version {
		t.Errorf("after reopening: SchemaVersion() = %d, %v; want %d", v, err, version)
	}
	got, err := s.WrappedKey(ctx, patient)
	if err != nil || string(got) != string(key) {
		t.Errorf("after reopening: WrappedKey() = %q, %v; want %q", got, err, key)
	}
}

func testClosedStoreFails(t *testing.T, h Harness) {
	s := h.openMigrated(t)
	if err := s.Close(); err != nil {
		t.Fatalf("Close: %v", err)
	}
	if err := s.Ping(t.Context()); err == nil {
		t.Error("Ping after Close succeeded")
	}
	if _, err := s.WrappedKey(t.Context(), NewPatientKey()); err == nil {
		t.Error("WrappedKey after Close succeeded")
	}
}
