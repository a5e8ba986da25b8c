-- The van and the post (issue 14, services A-2 and A-3). Villages are
-- records of their center; visits, visit changes and parcels are events.
-- Everything here but `villages` is derived from the events and can be
-- rebuilt from them.
CREATE TABLE villages (
    id                TEXT PRIMARY KEY,
    center_id         TEXT NOT NULL,
    name              TEXT NOT NULL,
    district          TEXT NOT NULL,
    eligible          INTEGER NOT NULL,
    ineligible_reason TEXT,
    distance_km       INTEGER,
    school            TEXT,
    contact_name      TEXT NOT NULL,
    contact_phone     TEXT NOT NULL,
    children          INTEGER,
    slot_weekday      INTEGER,           -- NULL: not on the van's route
    slot_week         INTEGER,
    retired           INTEGER NOT NULL,
    field_clocks      TEXT NOT NULL,
    created_at        TEXT NOT NULL
) STRICT;

-- A loan made on a van visit names its village: its due date follows the
-- village's visits.
ALTER TABLE open_loans ADD COLUMN village_id TEXT;
CREATE INDEX open_loans_village ON open_loans (village_id) WHERE village_id IS NOT NULL;

-- A visit opened in a village (the `opened` event), and its report once
-- closed (the `closed` event, which may arrive first).
CREATE TABLE van_visits (
    id         TEXT PRIMARY KEY,
    village_id TEXT NOT NULL,
    day        TEXT NOT NULL,
    staff_id   TEXT,
    hlc        TEXT NOT NULL,
    at         TEXT NOT NULL
) STRICT;
CREATE INDEX van_visits_day ON van_visits (day);

CREATE TABLE van_visit_reports (
    visit_id  TEXT PRIMARY KEY,
    report_id TEXT NOT NULL,
    report    TEXT NOT NULL,             -- JSON: the counts and the notes
    at        TEXT NOT NULL
) STRICT;

-- A planned visit cancelled or moved, and where the loans due on it go.
CREATE TABLE visit_changes (
    id         TEXT PRIMARY KEY,
    village_id TEXT NOT NULL,
    on_day     TEXT NOT NULL,
    to_day     TEXT,                     -- NULL: cancelled
    new_due    TEXT,                     -- NULL: no visit left within a year
    reason     TEXT NOT NULL,
    hlc        TEXT NOT NULL
) STRICT;
CREATE INDEX visit_changes_village ON visit_changes (village_id, hlc);

-- Parcels sent by post, and each book's fate.
CREATE TABLE parcels (
    id            TEXT PRIMARY KEY,
    member_id     TEXT NOT NULL,
    dispatched_on TEXT NOT NULL,
    expected_on   TEXT NOT NULL,
    postage_rials INTEGER NOT NULL,
    tracking      TEXT NOT NULL,
    staff_id      TEXT,
    hlc           TEXT NOT NULL,
    at            TEXT NOT NULL
) STRICT;
CREATE INDEX parcels_member ON parcels (member_id);

CREATE TABLE parcel_books (
    parcel_id TEXT NOT NULL,
    copy_id   TEXT NOT NULL,
    loan_id   TEXT NOT NULL,
    PRIMARY KEY (parcel_id, copy_id)
) STRICT;
CREATE INDEX parcel_books_copy ON parcel_books (copy_id);

-- A book of a parcel back (`received`) or lost in the post (`lost`); it
-- may arrive before its parcel.
CREATE TABLE parcel_outcomes (
    id        TEXT PRIMARY KEY,
    parcel_id TEXT NOT NULL,
    copy_id   TEXT NOT NULL,
    outcome   TEXT NOT NULL,             -- received | lost
    on_day    TEXT NOT NULL,
    hlc       TEXT NOT NULL,
    UNIQUE (parcel_id, copy_id, outcome)
) STRICT;
