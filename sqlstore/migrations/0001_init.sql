-- 0001_init: edges, sources, recordings and their recorded segments.
--
-- Times are INTEGER nanoseconds since the Unix epoch, UTC; NULL means "not
-- set" (a zero time.Time). Booleans are INTEGER 0/1. Every statement here is
-- deliberately not "IF NOT EXISTS": the migration runner records each applied
-- file in schema_migrations and must never run one twice.

CREATE TABLE edges (
    name        TEXT    NOT NULL PRIMARY KEY,
    version     TEXT    NOT NULL DEFAULT '',
    ingest_addr TEXT    NOT NULL DEFAULT '',
    online      INTEGER NOT NULL DEFAULT 0 CHECK (online IN (0, 1)),
    started_at  INTEGER,
    first_seen  INTEGER NOT NULL,
    last_seen   INTEGER NOT NULL
) STRICT;

CREATE TABLE sources (
    id          TEXT    NOT NULL PRIMARY KEY,
    name        TEXT    NOT NULL UNIQUE,
    description TEXT    NOT NULL DEFAULT '',
    segment_len INTEGER NOT NULL DEFAULT 0 CHECK (segment_len >= 0),
    streaming   INTEGER NOT NULL DEFAULT 0 CHECK (streaming IN (0, 1)),
    -- The edge that pushes this source; '' until known. Not a foreign key:
    -- an edge may push a source before its status reaches the control node.
    edge        TEXT    NOT NULL DEFAULT '',
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
) STRICT;

CREATE INDEX sources_by_edge ON sources (edge, name);

CREATE TABLE recordings (
    -- UUIDv7: sorting by id sorts by creation time.
    id          TEXT    NOT NULL PRIMARY KEY,
    source_id   TEXT    NOT NULL REFERENCES sources (id) ON DELETE RESTRICT,
    alias       TEXT    NOT NULL DEFAULT '',
    description TEXT    NOT NULL DEFAULT '',
    start_at    INTEGER NOT NULL,
    end_at      INTEGER,
    active      INTEGER NOT NULL CHECK (active IN (0, 1)),
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    CHECK ((active = 1) = (end_at IS NULL))
) STRICT;

CREATE INDEX recordings_by_source ON recordings (source_id, id);
CREATE INDEX recordings_active ON recordings (source_id, id) WHERE active = 1;

-- One row per stored segment object, shared by every recording that covers it.
CREATE TABLE segments (
    source_id     TEXT    NOT NULL REFERENCES sources (id) ON DELETE RESTRICT,
    seq           INTEGER NOT NULL CHECK (seq >= 0),
    object_key    TEXT    NOT NULL UNIQUE,
    duration      REAL    NOT NULL CHECK (duration >= 0),
    bytes         INTEGER NOT NULL CHECK (bytes >= 0),
    start_at      INTEGER NOT NULL,
    discontinuity INTEGER NOT NULL DEFAULT 0 CHECK (discontinuity IN (0, 1)),
    created_at    INTEGER NOT NULL,
    PRIMARY KEY (source_id, seq)
) STRICT;

-- Which segments make up which recording.
CREATE TABLE recording_segments (
    recording_id TEXT    NOT NULL REFERENCES recordings (id) ON DELETE CASCADE,
    source_id    TEXT    NOT NULL,
    seq          INTEGER NOT NULL,
    PRIMARY KEY (recording_id, source_id, seq),
    FOREIGN KEY (source_id, seq) REFERENCES segments (source_id, seq) ON DELETE RESTRICT
) STRICT;

-- Finds the other recordings that still link a segment (DeleteRecording).
CREATE INDEX recording_segments_by_segment ON recording_segments (source_id, seq);
