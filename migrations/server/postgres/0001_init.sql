-- The provincial server's database (PostgreSQL backend): the same tables as
-- the SQLite backend (migrations/server/sqlite/0001_init.sql) with native
-- types: ids are `uuid`, times `timestamptz` (shown as ISO 8601 UTC with
-- milliseconds). Applied by kanoon-server on open, in one transaction,
-- recorded in `kanoon_server_schema`.

-- Server-wide values. `epoch` names this op log: a desk whose cursor carries
-- another epoch must bootstrap again. Random at creation, 1 ..= 2^53 (a
-- number any JSON reader keeps exactly), never 0 (0 = "no cursor yet").
CREATE TABLE meta (
    key   text PRIMARY KEY,
    value text NOT NULL
);
INSERT INTO meta (key, value) VALUES ('epoch', (floor(random() * 9007199254740992)::bigint + 1)::text);

-- A center's id is the UUID every desk derives from its official code
-- (kanoon_domain::entities::Center::id_for_code), so both sides agree
-- before they ever talk.
CREATE TABLE centers (
    id         uuid PRIMARY KEY,
    code       text NOT NULL UNIQUE,
    name       text NOT NULL,
    kind       text NOT NULL CHECK (kind IN ('fixed', 'mobile', 'postal')),
    created_at timestamptz NOT NULL
);

-- One-time enrolment codes, kept only as SHA-256 hashes (hex).
CREATE TABLE enrol_codes (
    code_hash  text PRIMARY KEY,
    center_id  uuid NOT NULL REFERENCES centers (id),
    created_at timestamptz NOT NULL,
    used_at    timestamptz,
    used_by    uuid                  -- the device that traded it
);

-- Enrolled desks. The id is the device id the desk chose; the token is kept
-- only as its SHA-256 hash (hex). A desk number is unique within a center.
CREATE TABLE devices (
    id           uuid PRIMARY KEY,
    center_id    uuid NOT NULL REFERENCES centers (id),
    desk_number  smallint NOT NULL CHECK (desk_number BETWEEN 1 AND 99),
    name         text NOT NULL,
    token_hash   text NOT NULL UNIQUE,
    enrolled_at  timestamptz NOT NULL,
    last_seen_at timestamptz
);
CREATE UNIQUE INDEX devices_center_desk ON devices (center_id, desk_number);

-- The op log: every op ever accepted, once (op_id is unique), in the order
-- it was committed (seq). `op` is the op's JSON exactly as the desk sent it
-- (text, not jsonb, which would reorder keys), so kinds and fields this
-- server does not know are kept. `scope` is who pulls it: the center's id,
-- or 'province' for province-wide entities (titles, centers). `device_id`
-- is the op's author, `pushed_by` the device whose token pushed it.
--
-- `seq` comes from an identity sequence, which hands out numbers that
-- concurrent transactions may commit out of order. Every push takes one
-- transaction-level advisory lock (the op log's) before it inserts, so
-- pushes take their numbers and commit one at a time, and a pull that sees
-- a `seq` sees every op below it (see crates/kanoon-server/src/postgres.rs).
-- Anything else that inserts into `ops` must take the same lock.
CREATE TABLE ops (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    op_id       uuid NOT NULL UNIQUE,
    center_id   uuid NOT NULL REFERENCES centers (id),
    scope       text NOT NULL,
    entity      text NOT NULL,
    entity_id   uuid NOT NULL,
    device_id   uuid NOT NULL,
    pushed_by   uuid NOT NULL REFERENCES devices (id),
    hlc         text NOT NULL,       -- Hlc::to_sortable
    op          text NOT NULL,
    received_at timestamptz NOT NULL
);
CREATE INDEX ops_scope_seq ON ops (scope, seq);
CREATE INDEX ops_entity ON ops (entity, entity_id);
