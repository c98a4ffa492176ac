-- 0003_cameras: sources the edge pulls from a camera, on-demand upload,
-- continuous recording and retention, pinned recordings, and the names of
-- sources removed while something still pushed them.
--
-- Durations are INTEGER nanoseconds; 0 means "the node's default" (for
-- retain_ns, -1 means "keep forever"). Times and booleans are as in 0001.

-- What the bound edge's ffmpeg reads (rtsp://, srt://, ...); '' for a pushed
-- source. It may carry the camera's credentials: the API never shows them,
-- and only the bound edge's own desired state carries them.
ALTER TABLE sources ADD COLUMN pull_url TEXT NOT NULL DEFAULT '';
-- The edge uploads live segments only while someone watches.
ALTER TABLE sources ADD COLUMN on_demand INTEGER NOT NULL DEFAULT 0 CHECK (on_demand IN (0, 1));
-- How long an on-demand source keeps uploading after the last playlist request.
ALTER TABLE sources ADD COLUMN idle_ns INTEGER NOT NULL DEFAULT 0 CHECK (idle_ns >= 0);
-- 'off' or 'always' (continuous recording in chunks of record_chunk_ns).
ALTER TABLE sources ADD COLUMN record_mode TEXT NOT NULL DEFAULT 'off' CHECK (record_mode IN ('off', 'always'));
ALTER TABLE sources ADD COLUMN record_chunk_ns INTEGER NOT NULL DEFAULT 0 CHECK (record_chunk_ns >= 0);
-- How long this source's recordings are kept: 0 the node's --retain, -1 forever.
ALTER TABLE sources ADD COLUMN retain_ns INTEGER NOT NULL DEFAULT 0 CHECK (retain_ns >= -1);

-- A pinned recording is never deleted by retention.
ALTER TABLE recordings ADD COLUMN pinned INTEGER NOT NULL DEFAULT 0 CHECK (pinned IN (0, 1));
-- A chunk of continuous recording (--record always), not an operator's.
ALTER TABLE recordings ADD COLUMN continuous INTEGER NOT NULL DEFAULT 0 CHECK (continuous IN (0, 1));

-- Finds what retention looks at first: the oldest stopped recordings.
CREATE INDEX recordings_by_end ON recordings (end_at) WHERE active = 0;

-- Names removed (lmx source rm --force) while an edge still pushed them:
-- auto-registration does not bring them back until an operator adds the
-- name again.
CREATE TABLE removed_sources (
    name       TEXT    NOT NULL PRIMARY KEY,
    edge       TEXT    NOT NULL DEFAULT '',
    removed_at INTEGER NOT NULL,
    removed_by TEXT    NOT NULL DEFAULT ''
) STRICT;
