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
	// Ping checks that the database answers.
	Ping(ctx context.Context) error
	// SchemaVersion is the version of the last migration applied.
	SchemaVersion(ctx context.Context) (int64, error)
	// Stats reports the connection pool, for /metrics.
	Stats() PoolStats
	// Close releases every connection.
	Close() error

	KeyStore
}

// KeyStore keeps the per-patient data keys, wrapped by the master key.
// Destroying a key makes every blob of that patient unreadable
// (crypto-shredding, the basis of the right to erasure).
type KeyStore interface {
	// WrappedKey returns the wrapped data key of a patient, or ErrNotFound.
	WrappedKey(ctx context.Context, patientKey string) ([]byte, error)
	// CreateWrappedKey stores a wrapped key for a patient that has none and
	// returns the stored key: when two writers race, both get the winner's.
	CreateWrappedKey(ctx context.Context, patientKey string, wrapped []byte) ([]byte, error)
	// DestroyWrappedKey erases the patient's key; ErrNotFound if none.
	DestroyWrappedKey(ctx context.Context, patientKey string) error
}

// PoolStats is a snapshot of a connection pool.
type PoolStats struct {
	Open  int // connections open
	InUse int // connections in use
	Idle  int // idle connections
	Waits int64
}
