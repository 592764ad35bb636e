package store

import (
	"context"
	"errors"
	"time"
)

// Event is a fact that other parts of carnet act on later (the
// notifications of a new document, for one), written in the same
// transaction as the change it reports: the change and its event commit
// together or not at all (the transactional outbox pattern), so a
// consumer never misses an event nor sees one for a change that was rolled
// back.
type Event struct {
	// ID is chosen by the writer, unique per patient key: emitting the
	// same ID twice for one patient fails the transaction.
	ID string
	// Type says what happened, e.g. "document.deposited".
	Type string
	// PatientKey is the patient the event concerns (the shard key).
	PatientKey string
	// Subject is the resource concerned, "Type/id".
	Subject string
	// Time is when it happened; the store keeps it to the microsecond.
	Time time.Time
}

// Outbox reads the events written by ResourceTx.Emit.
type Outbox interface {
	// Events returns up to limit events, oldest first (by Time, then
	// PatientKey and ID), at or after since (zero: from the first).
	Events(ctx context.Context, since time.Time, limit int) ([]Event, error)
}

// CheckEvent validates an event before it is emitted, so that both engines
// refuse the same input with the same message.
func CheckEvent(e Event) error {
	switch {
	case e.ID == "":
		return errors.New("store: event: empty id")
	case e.Type == "":
		return errors.New("store: event " + e.ID + ": empty type")
	case e.PatientKey == "":
		return errors.New("store: event " + e.ID + ": empty patient key")
	case e.Time.IsZero():
		return errors.New("store: event " + e.ID + ": time is not set")
	}
	return nil
}
