-- The snapshot streamed a group at a time (crates/kanoon-server/src/snapshot.rs):
-- each circulation or membership event carries the group its derived
-- state is folded in (`fold_key`: the copy of a loan, return or transfer,
-- the member of a membership period or reminder call; for a renewal or a
-- void, the group of the event it names, `fold_ref`, when that one is
-- stored). The snapshot reads a center's events ordered by group from
-- `ops_fold`, so it holds one group at a time, never the center's log,
-- and its records and ungrouped events by scope and entity from
-- `ops_snapshot`.
ALTER TABLE ops ADD COLUMN fold_key TEXT;
ALTER TABLE ops ADD COLUMN fold_ref TEXT;

UPDATE ops SET fold_key = json_extract(op, '$.body.data.copy_id')
    WHERE entity IN ('circulation', 'membership') AND json_valid(op)
      AND json_extract(op, '$.body.type') = 'event'
      AND json_extract(op, '$.body.data.kind') IN ('loan', 'return', 'transfer');
UPDATE ops SET fold_key = json_extract(op, '$.body.data.member_id')
    WHERE entity IN ('circulation', 'membership') AND json_valid(op)
      AND json_extract(op, '$.body.type') = 'event'
      AND json_extract(op, '$.body.data.kind') IN ('membership', 'reminder_call');
UPDATE ops SET fold_ref = json_extract(op, '$.body.data.loan_id')
    WHERE entity IN ('circulation', 'membership') AND json_valid(op)
      AND json_extract(op, '$.body.type') = 'event' AND json_extract(op, '$.body.data.kind') = 'renewal';
UPDATE ops SET fold_ref = json_extract(op, '$.body.data.target')
    WHERE entity IN ('circulation', 'membership') AND json_valid(op)
      AND json_extract(op, '$.body.type') = 'event' AND json_extract(op, '$.body.data.kind') = 'void';
UPDATE ops SET fold_key = NULL WHERE fold_key IS NOT NULL AND typeof(fold_key) <> 'text';
UPDATE ops SET fold_ref = NULL WHERE fold_ref IS NOT NULL AND typeof(fold_ref) <> 'text';

-- Voids of voids: four levels (deeper chains stay ungrouped, which only
-- keeps them in every snapshot).
CREATE INDEX ops_fold_ref ON ops (fold_ref) WHERE fold_ref IS NOT NULL AND fold_key IS NULL;
UPDATE ops SET fold_key = (SELECT l.fold_key FROM ops l WHERE l.entity IN ('circulation', 'membership')
                             AND l.entity_id = ops.fold_ref AND l.fold_key IS NOT NULL LIMIT 1)
    WHERE fold_ref IS NOT NULL AND fold_key IS NULL;
UPDATE ops SET fold_key = (SELECT l.fold_key FROM ops l WHERE l.entity IN ('circulation', 'membership')
                             AND l.entity_id = ops.fold_ref AND l.fold_key IS NOT NULL LIMIT 1)
    WHERE fold_ref IS NOT NULL AND fold_key IS NULL;
UPDATE ops SET fold_key = (SELECT l.fold_key FROM ops l WHERE l.entity IN ('circulation', 'membership')
                             AND l.entity_id = ops.fold_ref AND l.fold_key IS NOT NULL LIMIT 1)
    WHERE fold_ref IS NOT NULL AND fold_key IS NULL;
UPDATE ops SET fold_key = (SELECT l.fold_key FROM ops l WHERE l.entity IN ('circulation', 'membership')
                             AND l.entity_id = ops.fold_ref AND l.fold_key IS NOT NULL LIMIT 1)
    WHERE fold_ref IS NOT NULL AND fold_key IS NULL;

CREATE INDEX ops_fold ON ops (scope, fold_key, seq) WHERE fold_key IS NOT NULL;
CREATE INDEX ops_snapshot ON ops (scope, entity, fold_key, seq);
