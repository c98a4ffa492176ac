-- 0002_access: access control. API tokens, the edges' own credentials and
-- the join tokens that hand them out, the keys playback grants are signed
-- with, and sources anyone may play.
--
-- Secrets are never stored: a token, credential or join token keeps only the
-- SHA-256 hash (32 bytes) of its secret. Times and booleans are as in 0001.

CREATE TABLE tokens (
    -- The public part of the token: 16 lowercase hex digits.
    id           TEXT    NOT NULL PRIMARY KEY,
    -- Unique for good: a revoked token keeps its name.
    name         TEXT    NOT NULL UNIQUE,
    role         TEXT    NOT NULL CHECK (role IN ('viewer', 'operator', 'admin')),
    hash         BLOB    NOT NULL CHECK (length(hash) = 32),
    created_at   INTEGER NOT NULL,
    -- The name of the token that made this one; '' for the first admin token.
    created_by   TEXT    NOT NULL DEFAULT '',
    expires_at   INTEGER, -- NULL: never
    revoked_at   INTEGER, -- NULL: not revoked
    last_used_at INTEGER  -- NULL: never used
) STRICT;

-- One row per edge added with lmx edge add. Not a foreign key to edges:
-- those rows are what edges report, and an added edge may not have reported
-- yet (or ever).
CREATE TABLE edge_credentials (
    edge       TEXT    NOT NULL PRIMARY KEY,
    -- The credential's public id; while the edge is pending, its join
    -- token's id.
    id         TEXT    NOT NULL UNIQUE,
    hash       BLOB    CHECK (hash IS NULL OR length(hash) = 32), -- NULL until joined
    created_at INTEGER NOT NULL,
    joined_at  INTEGER,
    revoked_at INTEGER,
    CHECK ((hash IS NULL) = (joined_at IS NULL))
) STRICT;

-- Single-use tokens an edge exchanges for its credential.
CREATE TABLE join_tokens (
    id         TEXT    NOT NULL PRIMARY KEY,
    edge       TEXT    NOT NULL,
    hash       BLOB    NOT NULL CHECK (length(hash) = 32),
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL,
    used_at    INTEGER
) STRICT;

-- Finds an edge's unused join tokens (AddEdge, RevokeEdge).
CREATE INDEX join_tokens_by_edge ON join_tokens (edge) WHERE used_at IS NULL;

-- The keys playback grants are signed and checked with.
CREATE TABLE grant_keys (
    id         TEXT    NOT NULL PRIMARY KEY,
    key        BLOB    NOT NULL CHECK (length(key) > 0),
    created_at INTEGER NOT NULL
) STRICT;

ALTER TABLE sources ADD COLUMN public INTEGER NOT NULL DEFAULT 0 CHECK (public IN (0, 1));
