// Package enginetest gives tests above the store (the FHIR API, the
// identity and document rules, imports) a fresh store on each engine, so
// that every such test runs on SQLite and on PostgreSQL alike.
package enginetest

import (
	"context"
	"path/filepath"
	"testing"

	"github.com/carnet-sante/carnet/internal/store"
	"github.com/carnet-sante/carnet/internal/store/postgres"
	"github.com/carnet-sante/carnet/internal/store/sqlite"
	"github.com/carnet-sante/carnet/internal/testenv"
)

// Engine opens a fresh, unmigrated store for one test.
type Engine struct {
	Name string
	Open func(t testing.TB) store.Store
}

// Engines are SQLite (a file in the test's directory) and PostgreSQL (a
// new database from testenv.PostgresURL: skipped on a laptop without it,
// a failure under CI=true).
var Engines = []Engine{
	{"sqlite", func(t testing.TB) store.Store {
		s, err := sqlite.Open(context.Background(), filepath.Join(t.TempDir(), "carnet.db"))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
	{"postgres", func(t testing.TB) store.Store {
		s, err := postgres.Open(context.Background(), testenv.PostgresURL(t))
		if err != nil {
			t.Fatal(err)
		}
		return s
	}},
}
