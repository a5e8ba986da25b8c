-- The status bar and the sync loop count and read the ops not yet pushed.
-- A desk that has not synced for weeks (or a migrated center) holds
-- hundreds of thousands of ops whose JSON makes a table scan read the
-- whole outbox (1.2 s on the reference dataset); this partial index holds
-- only the waiting ops' sequence numbers.
CREATE INDEX outbox_unpushed ON outbox (seq) WHERE pushed_at IS NULL;
