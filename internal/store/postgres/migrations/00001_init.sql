-- +goose Up

-- Per-patient data keys, wrapped (encrypted) by the master key. Deleting a
-- row makes that patient's blobs unreadable: crypto-shredding.
--
-- Patient-scoped, so hash-partitioned by patient_key like every such table
-- (DESIGN.md §3): PostgreSQL then refuses any primary key or unique
-- constraint without patient_key, as Citus will when sharding by it.
CREATE TABLE data_keys (
    patient_key text        NOT NULL CHECK (patient_key <> ''),
    wrapped     bytea       NOT NULL CHECK (length(wrapped) > 0),
    created_at  timestamptz NOT NULL DEFAULT now(),
    PRIMARY KEY (patient_key)
) PARTITION BY HASH (patient_key);

CREATE TABLE data_keys_p0 PARTITION OF data_keys FOR VALUES WITH (MODULUS 8, REMAINDER 0);
CREATE TABLE data_keys_p1 PARTITION OF data_keys FOR VALUES WITH (MODULUS 8, REMAINDER 1);
CREATE TABLE data_keys_p2 PARTITION OF data_keys FOR VALUES WITH (MODULUS 8, REMAINDER 2);
CREATE TABLE data_keys_p3 PARTITION OF data_keys FOR VALUES WITH (MODULUS 8, REMAINDER 3);
CREATE TABLE data_keys_p4 PARTITION OF data_keys FOR VALUES WITH (MODULUS 8, REMAINDER 4);
CREATE TABLE data_keys_p5 PARTITION OF data_keys FOR VALUES WITH (MODULUS 8, REMAINDER 5);
CREATE TABLE data_keys_p6 PARTITION OF data_keys FOR VALUES WITH (MODULUS 8, REMAINDER 6);
CREATE TABLE data_keys_p7 PARTITION OF data_keys FOR VALUES WITH (MODULUS 8, REMAINDER 7);
