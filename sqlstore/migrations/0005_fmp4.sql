-- 0005_fmp4: fMP4 (CMAF) recordings. A recorded fMP4 segment follows an
-- init segment, stored once per source and content as an object of its
-- own; init_key is that object's key ('' for an MPEG-TS segment). The init
-- object goes when the last segment that follows it does.
ALTER TABLE segments ADD COLUMN init_key TEXT NOT NULL DEFAULT '';

-- Finds whether any segment still follows an init object.
CREATE INDEX segments_by_init ON segments (init_key) WHERE init_key <> '';
