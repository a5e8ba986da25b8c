-- The snapshot streamed a group at a time: see the SQLite migration of the
-- same name.
ALTER TABLE ops ADD COLUMN fold_key uuid;
ALTER TABLE ops ADD COLUMN fold_ref uuid;

-- Only ops whose text is JSON and whose ids are UUIDs (a cast that fails
-- would stop the migration): checked by pattern first.
CREATE FUNCTION pg_temp.kanoon_uuid(t text) RETURNS uuid LANGUAGE sql IMMUTABLE AS $$
    SELECT CASE WHEN t ~* '^[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}$' THEN t::uuid END
$$;
UPDATE ops SET fold_key = pg_temp.kanoon_uuid(op::jsonb #>> '{body,data,copy_id}')
    WHERE entity IN ('circulation', 'membership') AND op::jsonb #>> '{body,type}' = 'event'
      AND op::jsonb #>> '{body,data,kind}' IN ('loan', 'return', 'transfer');
UPDATE ops SET fold_key = pg_temp.kanoon_uuid(op::jsonb #>> '{body,data,member_id}')
    WHERE entity IN ('circulation', 'membership') AND op::jsonb #>> '{body,type}' = 'event'
      AND op::jsonb #>> '{body,data,kind}' IN ('membership', 'reminder_call');
UPDATE ops SET fold_ref = pg_temp.kanoon_uuid(op::jsonb #>> '{body,data,loan_id}')
    WHERE entity IN ('circulation', 'membership') AND op::jsonb #>> '{body,type}' = 'event'
      AND op::jsonb #>> '{body,data,kind}' = 'renewal';
UPDATE ops SET fold_ref = pg_temp.kanoon_uuid(op::jsonb #>> '{body,data,target}')
    WHERE entity IN ('circulation', 'membership') AND op::jsonb #>> '{body,type}' = 'event'
      AND op::jsonb #>> '{body,data,kind}' = 'void';

CREATE INDEX ops_fold_ref ON ops (fold_ref) WHERE fold_ref IS NOT NULL AND fold_key IS NULL;
UPDATE ops o SET fold_key = (SELECT l.fold_key FROM ops l WHERE l.entity IN ('circulation', 'membership')
                               AND l.entity_id = o.fold_ref AND l.fold_key IS NOT NULL LIMIT 1)
    WHERE o.fold_ref IS NOT NULL AND o.fold_key IS NULL;
UPDATE ops o SET fold_key = (SELECT l.fold_key FROM ops l WHERE l.entity IN ('circulation', 'membership')
                               AND l.entity_id = o.fold_ref AND l.fold_key IS NOT NULL LIMIT 1)
    WHERE o.fold_ref IS NOT NULL AND o.fold_key IS NULL;
UPDATE ops o SET fold_key = (SELECT l.fold_key FROM ops l WHERE l.entity IN ('circulation', 'membership')
                               AND l.entity_id = o.fold_ref AND l.fold_key IS NOT NULL LIMIT 1)
    WHERE o.fold_ref IS NOT NULL AND o.fold_key IS NULL;
UPDATE ops o SET fold_key = (SELECT l.fold_key FROM ops l WHERE l.entity IN ('circulation', 'membership')
                               AND l.entity_id = o.fold_ref AND l.fold_key IS NOT NULL LIMIT 1)
    WHERE o.fold_ref IS NOT NULL AND o.fold_key IS NULL;

CREATE INDEX ops_fold ON ops (scope, fold_key, seq) WHERE fold_key IS NOT NULL;
CREATE INDEX ops_snapshot ON ops (scope, entity, fold_key, seq);
