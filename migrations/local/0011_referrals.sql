-- Referrals to the Iran Language Institute (issue 13, service E): the
-- institute runs its own registration, tests and payments; the center only
-- counts whom it referred. Append-only events; a void keeps both.
CREATE TABLE referrals (
    id          TEXT PRIMARY KEY,   -- the `referred` event's id
    day         TEXT NOT NULL,      -- the Tehran day it counts in
    member_id   TEXT,               -- NULL: a visitor
    name        TEXT NOT NULL,      -- the member's or the visitor's name
    age_group   TEXT,
    note        TEXT NOT NULL,
    staff_id    TEXT,
    staff_name  TEXT,
    hlc         TEXT NOT NULL,
    device_id   TEXT NOT NULL,
    at          TEXT NOT NULL,
    void_id     TEXT,
    void_reason TEXT
) STRICT;
CREATE INDEX referrals_day ON referrals (day);

-- A void that arrived before its referral.
CREATE TABLE referral_voids (
    target  TEXT PRIMARY KEY,
    void_id TEXT NOT NULL,
    reason  TEXT NOT NULL
) STRICT;
