-- Copies that travel between centers. A copy's record (its `copy` ops) and
-- its transfers (with voids of those) reach every center that has held it
-- (`copy_holders`: the center that first wrote about it and every center a
-- transfer took it to), not only the center that wrote them. `copy_id`
-- marks those ops in the log; `op_shares` serves an op to another center's
-- desks at a position (`seq`) of its own, taken from the op log's sequence,
-- so a center that receives a copy gets the copy's earlier ops after its
-- cursor. Loans, returns and renewals stay with the center they happen at.
ALTER TABLE ops ADD COLUMN copy_id TEXT;
UPDATE ops SET copy_id = entity_id WHERE entity = 'copy';
UPDATE ops SET copy_id = json_extract(op, '$.body.data.copy_id')
    WHERE entity = 'circulation' AND json_valid(op)
      AND json_extract(op, '$.body.type') = 'event' AND json_extract(op, '$.body.data.kind') = 'transfer';
CREATE INDEX ops_copy ON ops (copy_id, seq) WHERE copy_id IS NOT NULL;

CREATE TABLE copy_holders (
    copy_id   TEXT NOT NULL,
    center_id TEXT NOT NULL,
    PRIMARY KEY (copy_id, center_id)
) STRICT;
INSERT OR IGNORE INTO copy_holders (copy_id, center_id)
    SELECT copy_id, center_id FROM ops WHERE copy_id IS NOT NULL;
INSERT OR IGNORE INTO copy_holders (copy_id, center_id)
    SELECT copy_id, json_extract(op, '$.body.data.to_center') FROM ops
    WHERE entity = 'circulation' AND copy_id IS NOT NULL AND json_extract(op, '$.body.data.to_center') IS NOT NULL;

CREATE TABLE op_shares (
    seq    INTEGER PRIMARY KEY,       -- a position of the op log's sequence
    scope  TEXT NOT NULL,             -- the center whose desks pull it
    op_seq INTEGER NOT NULL REFERENCES ops (seq),
    UNIQUE (scope, op_seq)
) STRICT;
CREATE INDEX op_shares_scope_seq ON op_shares (scope, seq);

-- Copies transferred before this migration: their record and transfer ops
-- are shared now with every center that held them, after every position
-- taken so far (desks pull them after their cursor).
INSERT INTO op_shares (seq, scope, op_seq)
    SELECT (SELECT seq FROM sqlite_sequence WHERE name = 'ops') + row_number() OVER (ORDER BY o.seq, h.center_id),
           h.center_id, o.seq
    FROM ops o JOIN copy_holders h ON h.copy_id = o.copy_id
    WHERE o.copy_id IS NOT NULL AND h.center_id <> o.scope;
UPDATE sqlite_sequence SET seq = (SELECT max(seq) FROM op_shares)
    WHERE name = 'ops' AND EXISTS (SELECT 1 FROM op_shares);
