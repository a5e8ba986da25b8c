-- The status bar counts the ops not yet pushed, the sync loop reads them in
-- order and marks them pushed by op id. A desk that has not synced for
-- weeks (or a migrated center) holds hundreds of thousands of ops whose
-- JSON makes each of those a scan of the whole outbox (counting took
-- 1.2 s on the reference dataset; marking a 500-op batch pushed was 500
-- such scans). Two partial indexes hold only the waiting ops: they cost
-- two small index writes per op and empty out as the desk syncs.
CREATE INDEX outbox_unpushed ON outbox (seq) WHERE pushed_at IS NULL;
CREATE INDEX outbox_unpushed_op_id ON outbox (op_id) WHERE pushed_at IS NULL;
