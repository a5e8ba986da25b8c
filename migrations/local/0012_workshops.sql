-- Workshops (issue 13, service D): workshops and their participants are
-- records merged field by field; enrolments (joins, offers, acceptances,
-- withdrawals) are append-only events whose fold is the roster; attendance
-- per session is a register per (workshop, participant, session), the
-- latest clock winning. Tuition is paid through the cash book, whose
-- entries now name the workshop and the participant they are for.

CREATE TABLE workshops (
    id           TEXT PRIMARY KEY,
    center_id    TEXT NOT NULL,
    term         TEXT NOT NULL,
    title        TEXT NOT NULL,
    first_on     TEXT,            -- the first session's day
    last_on      TEXT,            -- the last session's day
    cancelled    INTEGER NOT NULL DEFAULT 0,
    body         TEXT NOT NULL,   -- the record's fields, as its ops carry them
    field_clocks TEXT NOT NULL,
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX workshops_last_on ON workshops (last_on);

CREATE TABLE participants (
    id             TEXT PRIMARY KEY,
    center_id      TEXT NOT NULL,
    full_name      TEXT NOT NULL,
    search         TEXT NOT NULL,  -- normalized name and phone digits
    member_id      TEXT,
    body           TEXT NOT NULL,
    field_clocks   TEXT NOT NULL,
    created_at     TEXT NOT NULL
) STRICT;
CREATE INDEX participants_member ON participants (member_id) WHERE member_id IS NOT NULL;

CREATE TABLE enrolments (
    id             TEXT PRIMARY KEY,  -- the event's id
    workshop_id    TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    kind           TEXT NOT NULL,     -- joined | offered | accepted | left
    data           TEXT NOT NULL,     -- the event's data
    staff_id       TEXT,
    staff_name     TEXT,
    hlc            TEXT NOT NULL,
    device_id      TEXT NOT NULL,
    at             TEXT NOT NULL
) STRICT;
CREATE INDEX enrolments_workshop ON enrolments (workshop_id, hlc, id);
CREATE INDEX enrolments_participant ON enrolments (participant_id);

CREATE TABLE workshop_attendance (
    workshop_id    TEXT NOT NULL,
    participant_id TEXT NOT NULL,
    session_no     INTEGER NOT NULL,  -- 1 = the first session
    present        INTEGER NOT NULL,
    event_id       TEXT NOT NULL,
    hlc            TEXT NOT NULL,
    staff_name     TEXT,
    PRIMARY KEY (workshop_id, participant_id, session_no)
) STRICT;

ALTER TABLE cash_entries ADD COLUMN workshop_id TEXT;
ALTER TABLE cash_entries ADD COLUMN participant_id TEXT;
CREATE INDEX cash_entries_workshop ON cash_entries (workshop_id, participant_id) WHERE workshop_id IS NOT NULL;
