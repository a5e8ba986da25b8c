-- The provincial server's database (SQLite backend): centers, enrolment
-- codes, enrolled devices and the op log every desk pushes to and pulls from.
-- Timestamps are ISO 8601 UTC with milliseconds; ids are UUIDs as text.

-- Server-wide values. `epoch` names this op log: a desk whose cursor carries
-- another epoch must bootstrap again. Random at creation, 1 ..= 2^53 (a
-- number any JSON reader keeps exactly), never 0 (0 = "no cursor yet").
CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;
INSERT INTO meta (key, value) VALUES ('epoch', CAST(abs(random() % 9007199254740992) + 1 AS TEXT));

-- A center's id is the UUID every desk derives from its official code
-- (kanoon_domain::entities::Center::id_for_code), so both sides agree
-- before they ever talk.
CREATE TABLE centers (
    id         TEXT PRIMARY KEY,
    code       TEXT NOT NULL UNIQUE,
    name       TEXT NOT NULL,
    kind       TEXT NOT NULL CHECK (kind IN ('fixed', 'mobile', 'postal')),
    created_at TEXT NOT NULL
) STRICT;

-- One-time enrolment codes, kept only as SHA-256 hashes (hex).
CREATE TABLE enrol_codes (
    code_hash  TEXT PRIMARY KEY,
    center_id  TEXT NOT NULL REFERENCES centers (id),
    created_at TEXT NOT NULL,
    used_at    TEXT,
    used_by    TEXT                  -- the device that traded it
) STRICT;

-- Enrolled desks. The id is the device id the desk chose; the token is kept
-- only as its SHA-256 hash (hex). A desk number is unique within a center.
CREATE TABLE devices (
    id           TEXT PRIMARY KEY,
    center_id    TEXT NOT NULL REFERENCES centers (id),
    desk_number  INTEGER NOT NULL,
    name         TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    enrolled_at  TEXT NOT NULL,
    last_seen_at TEXT
) STRICT;
CREATE UNIQUE INDEX devices_center_desk ON devices (center_id, desk_number);

-- The op log: every op ever accepted, once (op_id is unique), in the order
-- it was committed (seq). `op` is the op's JSON exactly as the desk sent it,
-- so kinds and fields this server does not know are kept. `scope` is who
-- pulls it: the center's id, or 'province' for province-wide entities
-- (titles, centers). `device_id` is the op's author, `pushed_by` the device
-- whose token pushed it.
CREATE TABLE ops (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id       TEXT NOT NULL UNIQUE,
    center_id   TEXT NOT NULL REFERENCES centers (id),
    scope       TEXT NOT NULL,
    entity      TEXT NOT NULL,
    entity_id   TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    pushed_by   TEXT NOT NULL REFERENCES devices (id),
    hlc         TEXT NOT NULL,       -- Hlc::to_sortable
    op          TEXT NOT NULL,
    received_at TEXT NOT NULL
) STRICT;
CREATE INDEX ops_scope_seq ON ops (scope, seq);
CREATE INDEX ops_entity ON ops (entity, entity_id);
