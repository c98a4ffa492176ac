-- 0004_feeds: redundant ingest. A source may be fed by several edges (two
-- gateways on the camera's LAN); the control node lists one feed's segments
-- at a time and fails over to another when the active one stops.
--
-- The source's edge column stays its first feed (the one a pull status and
-- an on-demand wake-up are about); standby_feeds are the others, as a
-- comma-separated list of edge names in the operator's order.
ALTER TABLE sources ADD COLUMN standby_feeds TEXT NOT NULL DEFAULT '';
-- The feed the operator prefers (lmx source set --prefer): chosen when it
-- is set and it delivers, and first on every failover it can take. '' is
-- none: the first feed to deliver stays active until it fails.
ALTER TABLE sources ADD COLUMN prefer TEXT NOT NULL DEFAULT '';
