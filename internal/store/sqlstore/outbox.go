package sqlstore

import (
	"context"
	"fmt"
	"time"

	"github.com/carnet-sante/carnet/internal/store"
)

// outboxColumns are the columns of the outbox table (migration 3).
var outboxColumns = []Column{
	{"patient_key", Text}, {"id", Text}, {"type", Text}, {"subject", Text}, {"created_at", Int},
}

// Emit inserts the event at once, in the transaction: it commits with the
// transaction's writes or not at all. A failure loses the transaction, as
// a failed write does.
func (t *writeTx) Emit(ctx context.Context, e store.Event) error {
	if err := t.usable(); err != nil {
		return err
	}
	if err := store.CheckEvent(e); err != nil {
		return err
	}
	row := []any{e.PatientKey, e.ID, e.Type, e.Subject, e.Time.UnixMicro()}
	if _, err := t.tx.Exec(ctx, t.e.Insert("outbox", outboxColumns, row)...); err != nil {
		t.err = t.fail("emit event "+e.ID, err)
		return t.err
	}
	return nil
}

// Events returns up to limit events at or after since, oldest first.
func (s *Resources) Events(ctx context.Context, since time.Time, limit int) ([]store.Event, error) {
	if limit <= 0 {
		return nil, fmt.Errorf("store: events: limit %d; want 1 or more", limit)
	}
	var from int64 = -1 << 63
	if !since.IsZero() {
		from = since.UnixMicro()
	}
	rows, err := s.e.Reader().Query(ctx, `
		SELECT patient_key, id, type, subject, created_at FROM outbox
		WHERE created_at >= $1
		ORDER BY created_at, patient_key, id
		LIMIT $2`, from, int64(limit))
	if err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	defer rows.Close()
	var out []store.Event
	for rows.Next() {
		var e store.Event
		var at int64
		if err := rows.Scan(&e.PatientKey, &e.ID, &e.Type, &e.Subject, &at); err != nil {
			return nil, fmt.Errorf("store: events: %w", err)
		}
		e.Time = time.UnixMicro(at).UTC()
		out = append(out, e)
	}
	if err := rows.Err(); err != nil {
		return nil, fmt.Errorf("store: events: %w", err)
	}
	return out, nil
}
