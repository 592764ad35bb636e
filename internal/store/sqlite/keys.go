package sqlite

import (
	"context"
	"database/sql"
	"errors"
	"fmt"

	"github.com/carnet-sante/carnet/internal/store"
)

// WrappedKey returns the patient's wrapped data key, or store.ErrNotFound.
func (s *Store) WrappedKey(ctx context.Context, patientKey string) ([]byte, error) {
	var wrapped []byte
	err := s.reader.QueryRowContext(ctx,
		`SELECT wrapped FROM data_keys WHERE patient_key = ?`, patientKey,
	).Scan(&wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return nil, fmt.Errorf("sqlite: no data key for this patient: %w", store.ErrNotFound)
	}
	return wrapped, wrap("read data key", err)
}

// FirstWrappedKey returns the key of the smallest patient key, or
// store.ErrNotFound if there is none.
func (s *Store) FirstWrappedKey(ctx context.Context) (string, []byte, error) {
	var patientKey string
	var wrapped []byte
	err := s.reader.QueryRowContext(ctx,
		`SELECT patient_key, wrapped FROM data_keys ORDER BY patient_key LIMIT 1`,
	).Scan(&patientKey, &wrapped)
	if errors.Is(err, sql.ErrNoRows) {
		return "", nil, fmt.Errorf("sqlite: no data key stored: %w", store.ErrNotFound)
	}
	return patientKey, wrapped, wrap("read data key", err)
}

// CreateWrappedKey stores wrapped unless the patient already has a key, and
// returns the key stored. Both statements run in one write transaction, so
// nothing can slip between them.
func (s *Store) CreateWrappedKey(ctx context.Context, patientKey string, wrapped []byte) ([]byte, error) {
	if err := store.CheckWrappedKey(patientKey, wrapped); err != nil {
		return nil, err
	}
	tx, err := s.writer.BeginTx(ctx, nil)
	if err != nil {
		return nil, wrap("create data key", err)
	}
	defer tx.Rollback()
	_, err = tx.ExecContext(ctx, `
		INSERT INTO data_keys (patient_key, wrapped) VALUES (?, ?)
		ON CONFLICT (patient_key) DO NOTHING`,
		patientKey, wrapped)
	if err != nil {
		return nil, wrap("create data key", err)
	}
	var stored []byte
	err = tx.QueryRowContext(ctx,
		`SELECT wrapped FROM data_keys WHERE patient_key = ?`, patientKey,
	).Scan(&stored)
	if err != nil {
		return nil, wrap("create data key", err)
	}
	return stored, wrap("create data key", tx.Commit())
}

// DestroyWrappedKey deletes the patient's key; store.ErrNotFound if none.
// secure_delete (set on the writer) zeroes the row in the database file;
// copies in the WAL are overwritten as the WAL is reused.
func (s *Store) DestroyWrappedKey(ctx context.Context, patientKey string) error {
	res, err := s.writer.ExecContext(ctx, `DELETE FROM data_keys WHERE patient_key = ?`, patientKey)
	if err != nil {
		return wrap("destroy data key", err)
	}
	if n, err := res.RowsAffected(); err != nil {
		return wrap("destroy data key", err)
	} else if n == 0 {
		return fmt.Errorf("sqlite: no data key to destroy for this patient: %w", store.ErrNotFound)
	}
	return nil
}
