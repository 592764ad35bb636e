// Package store defines what carnet keeps in its database, independently of
// the engine. The engines live in store/sqlite and store/postgres; the
// conformance suite in store/storetest runs the same tests against both.
//
// Sharding rule (DESIGN.md §3): every patient-scoped table carries a
// patient_key that is part of its primary key and of every unique
// constraint, and every query on such a table filters on it.
package store

import (
	"context"
	"errors"
)

// ErrNotFound is returned when a requested row does not exist.
var ErrNotFound = errors.New("not found")

// Store is one database engine holding carnet's records.
type Store interface {
	// Engine names the engine: "sqlite" or "postgres".
	Engine() string
	// Migrate applies the migrations this binary embeds and the database
	// lacks, each in its own transaction; a no-op on an up-to-date
	// database. `carnet migrate` and `carnet serve` call it.
	Migrate(ctx context.Context) error
	// Ping checks that the database answers, for /readyz.
	Ping(ctx context.Context) error
	// SchemaVersion is the version of the last migration applied, 0 for a
	// database never migrated. Both engines number their migrations alike,
	// so a version means the same schema on either.
	SchemaVersion(ctx context.Context) (int64, error)
	// Stats reports the connection pool, for /metrics.
	Stats() PoolStats
	// Close releases every connection.
	Close() error

	KeyStore
	Resources
	Outbox
}

// KeyStore keeps the per-patient data keys, wrapped by the master key.
// Destroying a key makes every blob of that patient unreadable
// (crypto-shredding, the basis of the right to erasure).
type KeyStore interface {
	// WrappedKey returns the wrapped data key of a patient, or ErrNotFound.
	WrappedKey(ctx context.Context, patientKey string) ([]byte, error)
	// CreateWrappedKey stores a wrapped key for a patient that has none and
	// returns the stored key: when two writers race, both get the winner's,
	// and so does a writer coming after. patientKey and wrapped must not be
	// empty (see CheckWrappedKey).
	CreateWrappedKey(ctx context.Context, patientKey string, wrapped []byte) ([]byte, error)
	// DestroyWrappedKey erases the patient's key; ErrNotFound if none.
	DestroyWrappedKey(ctx context.Context, patientKey string) error
	// FirstWrappedKey returns the patient key and wrapped key that sort
	// first, or ErrNotFound when no patient has a key: one stored key
	// tells whether a master key is the one that wrote them.
	FirstWrappedKey(ctx context.Context) (patientKey string, wrapped []byte, err error)
}

// CheckWrappedKey validates the arguments of CreateWrappedKey, so that both
// engines refuse the same input with the same message.
func CheckWrappedKey(patientKey string, wrapped []byte) error {
	if patientKey == "" {
		return errors.New("store: data key: empty patient key")
	}
	if len(wrapped) == 0 {
		return errors.New("store: data key: empty wrapped key")
	}
	return nil
}

// PoolStats is a snapshot of a connection pool. An engine with several
// pools (SQLite: one writer, a read pool) reports their sum.
type PoolStats struct {
	Open  int   // connections open
	InUse int   // connections in use
	Idle  int   // idle connections
	Waits int64 // total times a caller had to wait for a connection
}
