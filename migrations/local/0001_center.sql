-- The center's database: records, the append-only event log, state derived
-- from it, and the outbox. Forward-only: never edit a released migration,
-- add a new numbered file.

CREATE TABLE meta (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
) STRICT;

CREATE TABLE settings (
    key          TEXT PRIMARY KEY,
    value        TEXT NOT NULL,    -- JSON
    field_clocks TEXT NOT NULL DEFAULT '{}'
) STRICT;

CREATE TABLE centers (
    id           TEXT PRIMARY KEY,  -- UUIDv5 of the official code
    code         TEXT NOT NULL UNIQUE,
    name         TEXT NOT NULL,
    kind         TEXT NOT NULL CHECK (kind IN ('fixed', 'mobile', 'postal')),
    address      TEXT NOT NULL DEFAULT '',
    phone        TEXT NOT NULL DEFAULT '',
    field_clocks TEXT NOT NULL DEFAULT '{}'
) STRICT;

CREATE TABLE staff (
    id           TEXT PRIMARY KEY,
    center_id    TEXT NOT NULL REFERENCES centers (id),
    username     TEXT NOT NULL UNIQUE,
    full_name    TEXT NOT NULL,
    role         TEXT NOT NULL CHECK (role IN ('instructor', 'center_manager', 'provincial_admin')),
    active       INTEGER NOT NULL DEFAULT 1,
    field_clocks TEXT NOT NULL DEFAULT '{}'
) STRICT;

-- seq is a stable rowid for the full-text index; id is the identity.
CREATE TABLE members (
    seq                   INTEGER PRIMARY KEY,
    id                    TEXT NOT NULL UNIQUE,
    center_id             TEXT NOT NULL REFERENCES centers (id),
    member_number         TEXT NOT NULL UNIQUE,
    legacy_number         TEXT,
    first_name            TEXT NOT NULL,
    last_name             TEXT NOT NULL,
    father_name           TEXT NOT NULL DEFAULT '',
    gender                TEXT NOT NULL CHECK (gender IN ('female', 'male')),
    birth_date            TEXT,
    national_id           TEXT,
    alt_id_kind           TEXT,
    alt_id                TEXT,
    school_grade          INTEGER,
    guardian_phone        TEXT,
    address               TEXT NOT NULL DEFAULT '',
    village               TEXT,
    doc_photo             INTEGER NOT NULL DEFAULT 0,
    doc_birth_certificate INTEGER NOT NULL DEFAULT 0,
    age_group_override    TEXT,
    merged_into           TEXT REFERENCES members (id),
    sort_key              TEXT NOT NULL,
    created_at            TEXT NOT NULL,
    field_clocks          TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX members_national_id ON members (national_id) WHERE national_id IS NOT NULL;
CREATE INDEX members_legacy_number ON members (legacy_number) WHERE legacy_number IS NOT NULL;
CREATE INDEX members_sort_key ON members (sort_key);

CREATE TABLE member_photos (
    member_id  TEXT PRIMARY KEY REFERENCES members (id),
    mime       TEXT NOT NULL,
    bytes      BLOB NOT NULL,
    updated_at TEXT NOT NULL
) STRICT;

-- Every edit of a member field, old and new value (history kept).
CREATE TABLE member_edits (
    seq       INTEGER PRIMARY KEY,
    member_id TEXT NOT NULL REFERENCES members (id),
    field     TEXT NOT NULL,
    old_value TEXT,
    new_value TEXT,
    staff_id  TEXT,
    at        TEXT NOT NULL
) STRICT;
CREATE INDEX member_edits_member ON member_edits (member_id, seq);

CREATE VIRTUAL TABLE member_search USING fts5 (text, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3');

CREATE TABLE titles (
    seq          INTEGER PRIMARY KEY,
    id           TEXT NOT NULL UNIQUE,
    title        TEXT NOT NULL,
    author       TEXT NOT NULL DEFAULT '',
    translator   TEXT NOT NULL DEFAULT '',
    illustrator  TEXT NOT NULL DEFAULT '',
    publisher    TEXT NOT NULL DEFAULT '',
    year         INTEGER,
    isbn         TEXT NOT NULL DEFAULT '',
    age_group    TEXT,
    subjects     TEXT NOT NULL DEFAULT '',
    merged_into  TEXT REFERENCES titles (id),
    sort_key     TEXT NOT NULL,
    created_at   TEXT NOT NULL,
    field_clocks TEXT NOT NULL DEFAULT '{}'
) STRICT;
CREATE INDEX titles_sort_key ON titles (sort_key);

CREATE VIRTUAL TABLE title_search USING fts5 (text, tokenize = 'unicode61 remove_diacritics 2', prefix = '1 2 3');

CREATE TABLE copies (
    id                  TEXT PRIMARY KEY,
    title_id            TEXT NOT NULL REFERENCES titles (id),
    center_id           TEXT NOT NULL REFERENCES centers (id),
    registration_number TEXT NOT NULL,
    withdrawn           TEXT CHECK (withdrawn IN ('lost', 'damaged', 'weeded')),
    created_at          TEXT NOT NULL,
    field_clocks        TEXT NOT NULL DEFAULT '{}'
) STRICT;
-- A registration number is unique among a center's active copies; a
-- withdrawn copy keeps its number and frees it.
CREATE UNIQUE INDEX copies_active_registration_number
    ON copies (center_id, registration_number) WHERE withdrawn IS NULL;
CREATE INDEX copies_registration_number ON copies (registration_number);
CREATE INDEX copies_title ON copies (title_id);

-- The append-only log: loans, returns, renewals, transfers, membership
-- periods with their fee, voids. Never updated, never deleted.
CREATE TABLE events (
    id        TEXT PRIMARY KEY,
    kind      TEXT NOT NULL,
    hlc       TEXT NOT NULL,
    device_id TEXT NOT NULL,
    at        TEXT NOT NULL,         -- UTC, RFC 3339
    staff_id  TEXT,
    copy_id   TEXT,
    member_id TEXT,
    loan_id   TEXT,                  -- return/renewal: the loan; void: the target
    data      TEXT NOT NULL          -- the event as JSON (kanoon_domain::circulation::Event)
) STRICT;
CREATE INDEX events_copy ON events (copy_id, hlc) WHERE copy_id IS NOT NULL;
CREATE INDEX events_member ON events (member_id, hlc) WHERE member_id IS NOT NULL;
CREATE INDEX events_loan ON events (loan_id) WHERE loan_id IS NOT NULL;
CREATE INDEX events_at ON events (at);

-- Derived from events (the domain fold), kept in the same transaction as
-- the event that changes it. Not unique on copy_id: a copy lent twice while
-- offline is a real-world fact that sync reports, not a write to refuse.
CREATE TABLE open_loans (
    loan_id   TEXT PRIMARY KEY REFERENCES events (id),
    copy_id   TEXT NOT NULL REFERENCES copies (id),
    member_id TEXT NOT NULL REFERENCES members (id),
    lent_on   TEXT NOT NULL,
    due_on    TEXT NOT NULL,
    renewals  INTEGER NOT NULL DEFAULT 0
) STRICT;
CREATE INDEX open_loans_copy ON open_loans (copy_id);
CREATE INDEX open_loans_member ON open_loans (member_id);

-- Derived: membership periods in force (not voided).
CREATE TABLE memberships (
    period_id TEXT PRIMARY KEY REFERENCES events (id),
    member_id TEXT NOT NULL REFERENCES members (id),
    starts_on TEXT NOT NULL,
    ends_on   TEXT NOT NULL
) STRICT;
CREATE INDEX memberships_member ON memberships (member_id, ends_on);

-- Derived: which events a void cancelled.
CREATE TABLE voided (
    event_id TEXT PRIMARY KEY REFERENCES events (id),
    void_id  TEXT NOT NULL REFERENCES events (id)
) STRICT;

CREATE TABLE age_groups (
    code    TEXT PRIMARY KEY,
    scheme  TEXT NOT NULL CHECK (scheme IN ('letters', 'minimum_age')),
    label   TEXT NOT NULL,
    min_age INTEGER NOT NULL,
    sort    INTEGER NOT NULL
) STRICT;

CREATE TABLE fee_exemptions (
    code   TEXT PRIMARY KEY,
    name   TEXT NOT NULL,
    active INTEGER NOT NULL DEFAULT 1
) STRICT;

-- One record per date (synced as such); a removed holiday stays, inactive.
CREATE TABLE holidays (
    date         TEXT PRIMARY KEY,   -- ISO date
    name         TEXT NOT NULL,
    active       INTEGER NOT NULL DEFAULT 1,
    field_clocks TEXT NOT NULL DEFAULT '{}'
) STRICT;

-- One op per recorded change, written in the same transaction as the
-- change. Sync pushes them in seq order and marks them pushed. The last
-- row also tells the desk its latest clock and time when it opens, so the
-- loan path writes no extra row for them. op_id is a UUIDv7 made here:
-- unique without an index (the server deduplicates on it).
CREATE TABLE outbox (
    seq        INTEGER PRIMARY KEY AUTOINCREMENT,
    op_id      TEXT NOT NULL,
    hlc        TEXT NOT NULL,
    entity     TEXT NOT NULL,
    entity_id  TEXT NOT NULL,
    op         TEXT NOT NULL,        -- kanoon_protocol::Op as JSON
    created_at TEXT NOT NULL,
    pushed_at  TEXT
) STRICT;
