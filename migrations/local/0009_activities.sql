-- The weekly activity program (issue 13, service C). Kinds and sessions are
-- records (merged field by field); attendance is append-only events, each
-- scan its own, a card counted once per session by the reads.

-- The center's own activity kinds beside the province's list (domain
-- `activities::default_activity_kinds`).
CREATE TABLE activity_kinds (
    id           TEXT PRIMARY KEY,
    center_id    TEXT NOT NULL,
    code         TEXT NOT NULL,
    name         TEXT NOT NULL,
    retired      INTEGER NOT NULL DEFAULT 0,
    field_clocks TEXT NOT NULL,
    created_at   TEXT NOT NULL
) STRICT;

CREATE TABLE activity_sessions (
    id            TEXT PRIMARY KEY,
    center_id     TEXT NOT NULL,
    kind          TEXT NOT NULL,
    title         TEXT NOT NULL,
    age_group     TEXT NOT NULL,
    planned_on    TEXT NOT NULL,   -- YYYY-MM-DD, the planned day (its week)
    planned_at    TEXT NOT NULL,   -- HH:MM
    minutes       INTEGER NOT NULL,
    room          TEXT NOT NULL,
    instructor_id TEXT NOT NULL,
    -- As it was when planned: staff accounts are each desk's own, so the
    -- name travels with the session.
    instructor_name TEXT NOT NULL,
    capacity      INTEGER NOT NULL,
    status        TEXT NOT NULL,   -- JSON: kanoon_domain::activities::SessionStatus
    -- Derived from the status: when it takes place (NULL when cancelled).
    held_on       TEXT,
    held_at       TEXT,
    field_clocks  TEXT NOT NULL,
    created_at    TEXT NOT NULL
) STRICT;
CREATE INDEX activity_sessions_week ON activity_sessions (planned_on);
CREATE INDEX activity_sessions_held ON activity_sessions (held_on) WHERE held_on IS NOT NULL;
CREATE INDEX activity_sessions_instructor ON activity_sessions (instructor_id, planned_on);

CREATE TABLE attendance (
    id         TEXT PRIMARY KEY,   -- the `attended` event's id
    session_id TEXT NOT NULL,
    card       TEXT NOT NULL,      -- as scanned (ASCII digits), or the member's number when ticked
    member_id  TEXT,               -- NULL: no member of this center (a visitor)
    late       INTEGER NOT NULL,   -- entered after the session's day
    hlc        TEXT NOT NULL,
    device_id  TEXT NOT NULL,
    at         TEXT NOT NULL,      -- UTC, RFC 3339
    staff_id   TEXT,
    staff_name TEXT,               -- who recorded it (staff accounts are each desk's own)
    void_id    TEXT,               -- the `void` event that took it back
    void_reason TEXT
) STRICT;
CREATE INDEX attendance_session ON attendance (session_id, card);
CREATE INDEX attendance_member ON attendance (member_id) WHERE member_id IS NOT NULL;

-- A void that arrived before the attendance it names (a snapshot's order):
-- applied when the attendance comes.
CREATE TABLE attendance_voids (
    target  TEXT PRIMARY KEY,
    void_id TEXT NOT NULL,
    reason  TEXT NOT NULL
) STRICT;
