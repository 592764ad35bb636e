package store_test

import (
	"slices"
	"testing"

	"github.com/carnet-sante/carnet/internal/store/postgres"
	"github.com/carnet-sante/carnet/internal/store/sqlite"
	"github.com/carnet-sante/carnet/internal/store/storetest"
)

// TestEnginesShareMigrationVersions holds the two engines to one numbering:
// a schema version must mean the same tables on SQLite and PostgreSQL, so
// every migration is written for both, under the same number.
func TestEnginesShareMigrationVersions(t *testing.T) {
	lite, err := storetest.MigrationVersions(sqlite.Migrations())
	if err != nil {
		t.Fatalf("sqlite: %v", err)
	}
	pg, err := storetest.MigrationVersions(postgres.Migrations())
	if err != nil {
		t.Fatalf("postgres: %v", err)
	}
	if len(lite) == 0 || !slices.Equal(lite, pg) {
		t.Errorf("migration versions differ: sqlite %v, postgres %v; write each migration for both engines", lite, pg)
	}
}
