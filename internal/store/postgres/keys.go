package postgres

import (
	"context"
	"errors"
	"fmt"

	"github.com/jackc/pgx/v5"

	"github.com/carnet-sante/carnet/internal/store"
)

// WrappedKey returns the patient's wrapped data key, or store.ErrNotFound.
func (s *Store) WrappedKey(ctx context.Context, patientKey string) ([]byte, error) {
	var wrapped []byte
	err := s.pool.QueryRow(ctx,
		`SELECT wrapped FROM data_keys WHERE patient_key = $1`, patientKey,
	).Scan(&wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return nil, fmt.Errorf("postgres: no data key for this patient: %w", store.ErrNotFound)
	}
	return wrapped, wrap("read data key", err)
}

// FirstWrappedKey returns the key of the smallest patient key, or
// store.ErrNotFound if there is none.
func (s *Store) FirstWrappedKey(ctx context.Context) (string, []byte, error) {
	var patientKey string
	var wrapped []byte
	err := s.pool.QueryRow(ctx,
		`SELECT patient_key, wrapped FROM data_keys ORDER BY patient_key LIMIT 1`,
	).Scan(&patientKey, &wrapped)
	if errors.Is(err, pgx.ErrNoRows) {
		return "", nil, fmt.Errorf("postgres: no data key stored: %w", store.ErrNotFound)
	}
	return patientKey, wrapped, wrap("read data key", err)
}

// CreateWrappedKey stores wrapped unless the patient already has a key, and
// returns the key stored.
//
// The INSERT waits for a concurrent insert of the same patient to commit
// and then does nothing; the SELECT, a new statement, sees that winner's
// key. Only a DestroyWrappedKey slipping between the two leaves nothing to
// read, and then the insert is simply tried again.
func (s *Store) CreateWrappedKey(ctx context.Context, patientKey string, wrapped []byte) ([]byte, error) {
	if err := store.CheckWrappedKey(patientKey, wrapped); err != nil {
		return nil, err
	}
	const attempts = 3
	for range attempts {
		tag, err := s.pool.Exec(ctx, `
			INSERT INTO data_keys (patient_key, wrapped) VALUES ($1, $2)
			ON CONFLICT (patient_key) DO NOTHING`,
			patientKey, wrapped)
		if err != nil {
			return nil, wrap("create data key", err)
		}
		if tag.RowsAffected() == 1 {
			return wrapped, nil
		}
		stored, err := s.WrappedKey(ctx, patientKey)
		if !errors.Is(err, store.ErrNotFound) {
			return stored, err
		}
	}
	return nil, fmt.Errorf("postgres: create data key: destroyed concurrently %d times in a row; try again", attempts)
}

// DestroyWrappedKey deletes the patient's key; store.ErrNotFound if none.
// The dead row stays in the table file until VACUUM reclaims it.
func (s *Store) DestroyWrappedKey(ctx context.Context, patientKey string) error {
	tag, err := s.pool.Exec(ctx, `DELETE FROM data_keys WHERE patient_key = $1`, patientKey)
	if err != nil {
		return wrap("destroy data key", err)
	}
	if tag.RowsAffected() == 0 {
		return fmt.Errorf("postgres: no data key to destroy for this patient: %w", store.ErrNotFound)
	}
	return nil
}
