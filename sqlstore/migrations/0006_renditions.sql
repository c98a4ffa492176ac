-- 0006_renditions: recordings of adaptive-bitrate sources. A recorded
-- segment names the rendition it is of ('' for a source pushed as one
-- media playlist). The renditions of one source share its seq space (the
-- start in milliseconds, moved up on a clash), so (source_id, seq) stays
-- the key and a recording's segment URIs stay unique across renditions.
ALTER TABLE segments ADD COLUMN rendition TEXT NOT NULL DEFAULT '';
