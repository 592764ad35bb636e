-- +goose Up

-- The transactional outbox (store.Event): facts written in the same
-- transaction as the change they report — a deposited document, say —
-- for the workers that act on them later (notifications). A row commits
-- with its change or not at all.
--
-- Patient-scoped: the primary key starts with patient_key (DESIGN.md §3).
-- created_at is integer microseconds since 1970 UTC.
CREATE TABLE outbox (
    patient_key TEXT    NOT NULL CHECK (patient_key <> ''),
    id          TEXT    NOT NULL CHECK (id <> ''),
    type        TEXT    NOT NULL CHECK (type <> ''),
    subject     TEXT    NOT NULL,
    created_at  INTEGER NOT NULL,
    PRIMARY KEY (patient_key, id)
) STRICT, WITHOUT ROWID;

-- Consumers read the oldest events first, across patients.
CREATE INDEX outbox_by_time ON outbox (created_at, patient_key, id);
