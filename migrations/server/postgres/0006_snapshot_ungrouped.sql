-- The snapshot's reads, as PostgreSQL plans them well
-- (crates/kanoon-server/src/storage/postgres/snapshot.rs):
--
-- The records, by entity in log order: `ops_snapshot` served that read, but
-- the planner, taking scope, entity and a NULL `fold_key` as independent,
-- expected tens of thousands of ungrouped circulation events where there
-- are none or a few and scanned the whole table for them. The records are
-- now read through a partial index of just the ungrouped rows, and the
-- events all together in one read.
--
-- The events by group: `ops_fold` let the planner fetch a center's 600,000
-- events one at a time in key order, from all over the table (twice the
-- time of reading them in the table's order and sorting them). That read
-- now has no index that gives its order; pushes maintain two fewer.
CREATE INDEX ops_ungrouped ON ops (scope, entity, seq) WHERE fold_key IS NULL;
DROP INDEX ops_snapshot;
DROP INDEX ops_fold;
