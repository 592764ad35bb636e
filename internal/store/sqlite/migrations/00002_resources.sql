-- +goose Up

-- The FHIR resource store (internal/store/sqlstore): the current version
-- of each resource, the content of every version, and the search index.
--
-- Patient-scoped: every table starts its primary key with patient_key, the
-- id of the Patient whose compartment holds the resource, or '' for the
-- resources outside every compartment (Practitioner, Organization…).
-- Instants are integer microseconds since 1970 UTC. Text compares bytewise
-- (BINARY), as in the PostgreSQL engine (COLLATE "C"), so that both sort
-- alike.

-- One row per resource: its current version, deleted or not. A resource
-- whose patient key changes moves to its new key, with its history.
CREATE TABLE resources (
    patient_key  TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL CHECK (version > 0),
    last_updated INTEGER NOT NULL,
    deleted      INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    PRIMARY KEY (patient_key, type, id)
) STRICT, WITHOUT ROWID;

-- Reads by type and id know no patient key. (type, id) is unique, but a
-- unique constraint must include patient_key: the writer keeps it so.
CREATE INDEX resources_by_id ON resources (type, id);
CREATE INDEX resources_by_time ON resources (type, last_updated);

-- Every version, with its content as the client sent it (the resource
-- JSON), kept once. A rowid table: the rows are large. All the versions of
-- a resource are under the patient key of its current row (a move takes
-- them along), so reads of one resource's versions go through resources.
CREATE TABLE resource_versions (
    patient_key  TEXT    NOT NULL,
    type         TEXT    NOT NULL,
    id           TEXT    NOT NULL,
    version      INTEGER NOT NULL CHECK (version > 0),
    last_updated INTEGER NOT NULL,
    deleted      INTEGER NOT NULL CHECK (deleted IN (0, 1)),
    content      BLOB    NOT NULL,
    PRIMARY KEY (patient_key, type, id, version)
) STRICT;

CREATE INDEX resource_versions_by_time ON resource_versions (type, last_updated);
-- Without statistics, planners read the type-wide (type, last_updated)
-- index to join a resource to its current version, scanning every version
-- of the type on each read; this index keeps reads by (type, id) a lookup.
CREATE INDEX resource_versions_by_id ON resource_versions (type, id, version);

-- The search index: one row per value of a search parameter in the current
-- version of a resource (none for a deleted one). ord is the value's
-- position among the resource's values; it only makes the key unique.

-- norm: lower-case, accents removed (searchparam.NormalizeString); text as
-- written, for :exact.
CREATE TABLE search_string (
    patient_key TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    param       TEXT    NOT NULL,
    ord         INTEGER NOT NULL,
    norm        TEXT    NOT NULL,
    text        TEXT    NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) STRICT, WITHOUT ROWID;

CREATE INDEX search_string_norm ON search_string (type, param, norm);

-- Codings, identifiers, codes, booleans; norm is the display text, for
-- :text.
CREATE TABLE search_token (
    patient_key TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    param       TEXT    NOT NULL,
    ord         INTEGER NOT NULL,
    system      TEXT    NOT NULL,
    code        TEXT    NOT NULL,
    norm        TEXT    NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) STRICT, WITHOUT ROWID;

CREATE INDEX search_token_code ON search_token (type, param, code, system);

-- [low, high): the range a date denotes at its precision; an open end is
-- the smallest or largest integer.
CREATE TABLE search_date (
    patient_key TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    param       TEXT    NOT NULL,
    ord         INTEGER NOT NULL,
    low         INTEGER NOT NULL,
    high        INTEGER NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) STRICT, WITHOUT ROWID;

CREATE INDEX search_date_range ON search_date (type, param, low, high);

-- ref_type and ref_id: the target, when the reference names one; url: the
-- reference as written; id_system and id_code: Reference.identifier.
-- ref_id comes first in its index: searches by id, _has and _revinclude
-- all know it, not all know the parameter or the target type.
CREATE TABLE search_reference (
    patient_key TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    param       TEXT    NOT NULL,
    ord         INTEGER NOT NULL,
    ref_type    TEXT    NOT NULL,
    ref_id      TEXT    NOT NULL,
    url         TEXT    NOT NULL,
    id_system   TEXT    NOT NULL,
    id_code     TEXT    NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) STRICT, WITHOUT ROWID;

CREATE INDEX search_reference_target ON search_reference (ref_id, type, param, ref_type);
CREATE INDEX search_reference_url ON search_reference (type, param, url) WHERE ref_id = '';
CREATE INDEX search_reference_identifier ON search_reference (type, param, id_code) WHERE id_code <> '';

CREATE TABLE search_number (
    patient_key TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    param       TEXT    NOT NULL,
    ord         INTEGER NOT NULL,
    value       REAL    NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) STRICT, WITHOUT ROWID;

CREATE INDEX search_number_value ON search_number (type, param, value);

-- system and code: the unit's (UCUM, or ISO 4217 for Money); unit: as
-- written for humans.
CREATE TABLE search_quantity (
    patient_key TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    param       TEXT    NOT NULL,
    ord         INTEGER NOT NULL,
    value       REAL    NOT NULL,
    system      TEXT    NOT NULL,
    code        TEXT    NOT NULL,
    unit        TEXT    NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) STRICT, WITHOUT ROWID;

CREATE INDEX search_quantity_value ON search_quantity (type, param, value);

CREATE TABLE search_uri (
    patient_key TEXT    NOT NULL,
    type        TEXT    NOT NULL,
    id          TEXT    NOT NULL,
    param       TEXT    NOT NULL,
    ord         INTEGER NOT NULL,
    uri         TEXT    NOT NULL,
    PRIMARY KEY (patient_key, type, id, param, ord)
) STRICT, WITHOUT ROWID;

CREATE INDEX search_uri_uri ON search_uri (type, param, uri);
