-- +goose Up

-- The FHIR resource store (internal/store/sqlstore): the current version
-- of each resource, the content of every version, and the search index.
-- The same tables as the SQLite engine's migration 2; see the comments
-- there for what each column holds.
--
-- Patient-scoped: every table starts its primary key with patient_key, the
-- id of the Patient whose compartment holds the resource, and is
-- hash-partitioned by it (DESIGN.md §3). Resources outside every
-- compartment (Practitioner, Organization…) have the patient key '' and so
-- all land in one partition; at Citus scale they move to reference tables
-- replicated to every node, as directory data does.
--
-- Instants are bigint microseconds since 1970 UTC. Every text column is
-- COLLATE "C": it compares bytewise, like SQLite's BINARY, so both engines
-- sort alike, and a starts-with search is an index range whatever the
-- database's locale.

CREATE TABLE resources (
    patient_key  text COLLATE "C" NOT NULL,
    type         text COLLATE "C" NOT NULL,
    id           text COLLATE "C" NOT NULL,
    version      bigint  NOT NULL CHECK (version > 0),
    last_updated bigint  NOT NULL,
    deleted      boolean NOT NULL,
    PRIMARY KEY (patient_key, type, id)
) PARTITION BY HASH (patient_key);

-- Reads by type and id know no patient key (on Citus, they go to every
-- shard). (type, id) is unique, but a unique constraint must include
-- patient_key: the writer keeps it so, under an advisory lock per resource.
CREATE INDEX resources_by_id ON resources (type, id);
CREATE INDEX resources_by_time ON resources (type, last_updated);

-- Reached by patient key from the current row (see the SQLite migration).
CREATE TABLE resource_versions (
    patient_key  text COLLATE "C" NOT NULL,
    type         text COLLATE "C" NOT NULL,
    id           text COLLATE "C" NOT NULL,
    version      bigint  NOT NULL CHECK (version > 0),
    last_updated bigint  NOT NULL,
    deleted      boolean NOT NULL,
    content      bytea   NOT NULL,
    PRIMARY KEY (patient_key, type, id, version)
) PARTITION BY HASH (patient_key);

CREATE INDEX resource_versions_by_time ON resource_versions (type, last_updated);
-- Without statistics, planners read the type-wide (type, last_updated)
-- index to join a resource to its current version, scanning every version
-- of the type on each read; this index keeps reads by (type, id) a lookup.
CREATE INDEX resource_versions_by_id ON resource_versions (type, id, version);

CREATE TABLE search_string (
    patient_key text COLLATE "C" NOT NULL,
    type        text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    param       text COLLATE "C" NOT NULL,
    ord         integer NOT NULL,
    norm        text COLLATE "C" NOT NULL,
    text        text COLLATE "C" NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) PARTITION BY HASH (patient_key);

CREATE INDEX search_string_norm ON search_string (type, param, norm);

CREATE TABLE search_token (
    patient_key text COLLATE "C" NOT NULL,
    type        text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    param       text COLLATE "C" NOT NULL,
    ord         integer NOT NULL,
    system      text COLLATE "C" NOT NULL,
    code        text COLLATE "C" NOT NULL,
    norm        text COLLATE "C" NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) PARTITION BY HASH (patient_key);

CREATE INDEX search_token_code ON search_token (type, param, code, system);

CREATE TABLE search_date (
    patient_key text COLLATE "C" NOT NULL,
    type        text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    param       text COLLATE "C" NOT NULL,
    ord         integer NOT NULL,
    low         bigint NOT NULL,
    high        bigint NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) PARTITION BY HASH (patient_key);

CREATE INDEX search_date_range ON search_date (type, param, low, high);

CREATE TABLE search_reference (
    patient_key text COLLATE "C" NOT NULL,
    type        text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    param       text COLLATE "C" NOT NULL,
    ord         integer NOT NULL,
    ref_type    text COLLATE "C" NOT NULL,
    ref_id      text COLLATE "C" NOT NULL,
    url         text COLLATE "C" NOT NULL,
    id_system   text COLLATE "C" NOT NULL,
    id_code     text COLLATE "C" NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) PARTITION BY HASH (patient_key);

CREATE INDEX search_reference_target ON search_reference (ref_id, type, param, ref_type);
CREATE INDEX search_reference_url ON search_reference (type, param, url) WHERE ref_id = '';
CREATE INDEX search_reference_identifier ON search_reference (type, param, id_code) WHERE id_code <> '';

CREATE TABLE search_number (
    patient_key text COLLATE "C" NOT NULL,
    type        text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    param       text COLLATE "C" NOT NULL,
    ord         integer NOT NULL,
    value       double precision NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) PARTITION BY HASH (patient_key);

CREATE INDEX search_number_value ON search_number (type, param, value);

CREATE TABLE search_quantity (
    patient_key text COLLATE "C" NOT NULL,
    type        text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    param       text COLLATE "C" NOT NULL,
    ord         integer NOT NULL,
    value       double precision NOT NULL,
    system      text COLLATE "C" NOT NULL,
    code        text COLLATE "C" NOT NULL,
    unit        text COLLATE "C" NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) PARTITION BY HASH (patient_key);

CREATE INDEX search_quantity_value ON search_quantity (type, param, value);

CREATE TABLE search_uri (
    patient_key text COLLATE "C" NOT NULL,
    type        text COLLATE "C" NOT NULL,
    id          text COLLATE "C" NOT NULL,
    param       text COLLATE "C" NOT NULL,
    ord         integer NOT NULL,
    uri         text COLLATE "C" NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) PARTITION BY HASH (patient_key);

CREATE INDEX search_uri_uri ON search_uri (type, param, uri);

-- Eight partitions per table, like data_keys.
-- +goose StatementBegin
DO $$
DECLARE
    t text;
BEGIN
    FOREACH t IN ARRAY ARRAY['resources', 'resource_versions', 'search_string', 'search_token',
                             'search_date', 'search_reference', 'search_number', 'search_quantity', 'search_uri']
    LOOP
        FOR i IN 0..7 LOOP
            EXECUTE format('CREATE TABLE %I PARTITION OF %I FOR VALUES WITH (MODULUS 8, REMAINDER %s)',
                           t || '_p' || i, t, i);
        END LOOP;
    END LOOP;
END
$$;
-- +goose StatementEnd
