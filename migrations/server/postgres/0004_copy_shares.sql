-- Copies that travel between centers: see the SQLite migration of the same
-- name. `op_shares.seq` is taken from the identity sequence of `ops.seq`
-- (under `OP_LOG_LOCK`, like every insert into `ops`), so shares and ops
-- commit in one order and a pull's watermark holds for both.
ALTER TABLE ops ADD COLUMN copy_id uuid;
UPDATE ops SET copy_id = entity_id WHERE entity = 'copy';
UPDATE ops SET copy_id = (op::jsonb #>> '{body,data,copy_id}')::uuid
    WHERE entity = 'circulation' AND op LIKE '%"transfer"%'
      AND op::jsonb #>> '{body,type}' = 'event' AND op::jsonb #>> '{body,data,kind}' = 'transfer';
CREATE INDEX ops_copy ON ops (copy_id, seq) WHERE copy_id IS NOT NULL;

CREATE TABLE copy_holders (
    copy_id   uuid NOT NULL,
    center_id uuid NOT NULL,
    PRIMARY KEY (copy_id, center_id)
);
INSERT INTO copy_holders (copy_id, center_id)
    SELECT DISTINCT copy_id, center_id FROM ops WHERE copy_id IS NOT NULL
    ON CONFLICT DO NOTHING;
INSERT INTO copy_holders (copy_id, center_id)
    SELECT DISTINCT copy_id, (op::jsonb #>> '{body,data,to_center}')::uuid FROM ops
    WHERE entity = 'circulation' AND copy_id IS NOT NULL
    ON CONFLICT DO NOTHING;

CREATE TABLE op_shares (
    seq    bigint PRIMARY KEY,
    scope  text NOT NULL,
    op_seq bigint NOT NULL REFERENCES ops (seq),
    UNIQUE (scope, op_seq)
);
CREATE INDEX op_shares_scope_seq ON op_shares (scope, seq);

-- Copies transferred before this migration: their record and transfer ops
-- are shared now with every center that held them, after every position
-- taken so far (desks pull them after their cursor).
INSERT INTO op_shares (seq, scope, op_seq)
    SELECT nextval(pg_get_serial_sequence('ops', 'seq')), s.scope, s.op_seq FROM (
        SELECT h.center_id::text AS scope, o.seq AS op_seq
        FROM ops o JOIN copy_holders h ON h.copy_id = o.copy_id
        WHERE o.copy_id IS NOT NULL AND h.center_id::text <> o.scope
        ORDER BY o.seq, h.center_id) AS s;
