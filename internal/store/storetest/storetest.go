// Package storetest is the conformance suite of the store engines: every
// engine runs the same behaviour tests through the store.Store interface,
// so that SQLite and PostgreSQL behave alike (DESIGN.md §3, "Two engines,
// one behaviour").
//
// An engine's test calls Run with a Harness. To cover a new part of the
// store, write its tests in a new file of this package as a []Test and add
// that slice to the groups listed in Run.
package storetest

import (
	"context"
	"crypto/rand"
	"fmt"
	"io/fs"
	"slices"
	"strconv"
	"strings"
	"testing"

	"github.com/carnet-sante/carnet/internal/store"
)

// Harness connects the suite to one engine.
type Harness struct {
	// NewDatabase returns the address of a new, empty database: a file path
	// for SQLite, a URL for PostgreSQL. Its cleanup is the harness's job.
	NewDatabase func(t testing.TB) string
	// Open opens the database at addr, without migrating it. Opening the
	// same address again must show what was committed before.
	Open func(ctx context.Context, addr string) (store.Store, error)
	// Migrations are the engine's embedded migration files: after
	// Migrate, SchemaVersion must be the last of their versions.
	Migrations fs.FS
}

// Test is one conformance test.
type Test struct {
	Name string
	Run  func(t *testing.T, h Harness)
}

// Run runs the whole suite against the engine of h, each test on a fresh
// database and in parallel with the others.
func Run(t *testing.T, h Harness) {
	for _, group := range [][]Test{
		lifecycleTests,
		keyTests,
		resourceTests,
		searchTests,
		outboxTests,
	} {
		for _, tc := range group {
			t.Run(tc.Name, func(t *testing.T) {
				t.Parallel()
				tc.Run(t, h)
			})
		}
	}
}

// openAt opens the database at addr and closes it when the test ends.
func (h Harness) openAt(t testing.TB, addr string) store.Store {
	t.Helper()
	s, err := h.Open(t.Context(), addr)
	if err != nil {
		t.Fatalf("open %s: %v", addr, err)
	}
	t.Cleanup(func() { s.Close() })
	return s
}

// openMigrated opens a fresh, migrated database, closed when the test ends.
func (h Harness) openMigrated(t testing.TB) store.Store {
	t.Helper()
	s := h.openAt(t, h.NewDatabase(t))
	if err := s.Migrate(t.Context()); err != nil {
		t.Fatalf("migrate: %v", err)
	}
	return s
}

// MigrationVersions lists the versions of the goose migration files in
// fsys (the number their names start with), in ascending order.
func MigrationVersions(fsys fs.FS) ([]int64, error) {
	names, err := fs.Glob(fsys, "*.sql")
	if err != nil {
		return nil, err
	}
	versions := make([]int64, 0, len(names))
	for _, name := range names {
		digits, _, ok := strings.Cut(name, "_")
		v, err := strconv.ParseInt(digits, 10, 64)
		if !ok || err != nil || v <= 0 {
			return nil, fmt.Errorf("migration %s: name must be NNNNN_what.sql", name)
		}
		versions = append(versions, v)
	}
	slices.Sort(versions)
	return versions, nil
}

// NewPatientKey returns a patient key no other test uses.
func NewPatientKey() string { return "patient-" + rand.Text() }
