-- Sync on the desk: ops pulled from the provincial server and the
-- real-world conflicts found while applying them.

-- Every pulled op, by id: applying is idempotent, and an op this version
-- cannot apply yet (a kind or field it does not know, a record whose
-- creation has not arrived) is kept, never dropped.
CREATE TABLE inbox (
    op_id       TEXT PRIMARY KEY,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    op          TEXT NOT NULL,        -- kanoon_protocol::Op as JSON
    received_at TEXT NOT NULL,
    applied     INTEGER NOT NULL
) STRICT;
CREATE INDEX inbox_not_applied ON inbox (applied) WHERE applied = 0;

-- A conflict staff resolve: its id is derived from the code and the ids
-- involved, so it is recorded once however often the ops arrive.
CREATE TABLE sync_exceptions (
    id          TEXT PRIMARY KEY,
    code        TEXT NOT NULL,
    detail      TEXT NOT NULL,        -- JSON
    created_at  TEXT NOT NULL,
    resolved_by TEXT
) STRICT;
