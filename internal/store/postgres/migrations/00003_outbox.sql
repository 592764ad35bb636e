-- +goose Up

-- The transactional outbox (store.Event): facts written in the same
-- transaction as the change they report — a deposited document, say —
-- for the workers that act on them later (notifications). A row commits
-- with its change or not at all. The same table as the SQLite engine's
-- migration 3.
--
-- Patient-scoped, so hash-partitioned by patient_key (DESIGN.md §3).
-- created_at is bigint microseconds since 1970 UTC.
CREATE TABLE outbox (
    patient_key text COLLATE "C" NOT NULL CHECK (patient_key <> ''),
    id          text COLLATE "C" NOT NULL CHECK (id <> ''),
    type        text COLLATE "C" NOT NULL CHECK (type <> ''),
    subject     text COLLATE "C" NOT NULL,
    created_at  bigint NOT NULL,
    PRIMARY KEY (patient_key, id)
) PARTITION BY HASH (patient_key);

CREATE TABLE outbox_p0 PARTITION OF outbox FOR VALUES WITH (MODULUS 8, REMAINDER 0);
CREATE TABLE outbox_p1 PARTITION OF outbox FOR VALUES WITH (MODULUS 8, REMAINDER 1);
CREATE TABLE outbox_p2 PARTITION OF outbox FOR VALUES WITH (MODULUS 8, REMAINDER 2);
CREATE TABLE outbox_p3 PARTITION OF outbox FOR VALUES WITH (MODULUS 8, REMAINDER 3);
CREATE TABLE outbox_p4 PARTITION OF outbox FOR VALUES WITH (MODULUS 8, REMAINDER 4);
CREATE TABLE outbox_p5 PARTITION OF outbox FOR VALUES WITH (MODULUS 8, REMAINDER 5);
CREATE TABLE outbox_p6 PARTITION OF outbox FOR VALUES WITH (MODULUS 8, REMAINDER 6);
CREATE TABLE outbox_p7 PARTITION OF outbox FOR VALUES WITH (MODULUS 8, REMAINDER 7);

-- Consumers read the oldest events first, across patients.
CREATE INDEX outbox_by_time ON outbox (created_at, patient_key, id);
