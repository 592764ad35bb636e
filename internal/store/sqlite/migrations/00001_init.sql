-- +goose Up

-- Per-patient data keys, wrapped (encrypted) by the master key. Deleting a
-- row makes that patient's blobs unreadable: crypto-shredding.
-- Patient-scoped: patient_key is the primary key (DESIGN.md §3).
CREATE TABLE data_keys (
    patient_key TEXT NOT NULL PRIMARY KEY CHECK (patient_key <> ''),
    wrapped     BLOB NOT NULL CHECK (length(wrapped) > 0),
    created_at  TEXT NOT NULL DEFAULT (strftime('%Y-%m-%dT%H:%M:%fZ', 'now'))
) STRICT, WITHOUT ROWID;
