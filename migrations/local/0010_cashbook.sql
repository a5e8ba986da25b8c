-- The center's cash book (issue 13): payments and refunds as append-only
-- events with a receipt number per desk; a staff member's day closed and
-- confirmed by a manager. Nothing here is ever updated or deleted.

CREATE TABLE cash_entries (
    id           TEXT PRIMARY KEY,      -- the event's id
    receipt_desk INTEGER NOT NULL,
    receipt_seq  INTEGER NOT NULL,
    day          TEXT NOT NULL,         -- the Tehran day it counts in
    kind         TEXT NOT NULL,         -- kanoon_domain::cashbook::PaymentKind
    method       TEXT NOT NULL,         -- cash | card
    pos_ref      TEXT,                  -- the card reader's reference number
    amount_rials INTEGER NOT NULL,      -- a refund is negative
    payer        TEXT NOT NULL,
    member_id    TEXT,
    refund_of    TEXT,                  -- the payment a refund gives back
    reason       TEXT,
    staff_id     TEXT,
    staff_name   TEXT,
    hlc          TEXT NOT NULL,
    device_id    TEXT NOT NULL,
    at           TEXT NOT NULL
) STRICT;
CREATE INDEX cash_entries_receipt ON cash_entries (receipt_desk, receipt_seq);
CREATE INDEX cash_entries_day ON cash_entries (day, staff_id);
CREATE INDEX cash_entries_refund ON cash_entries (refund_of) WHERE refund_of IS NOT NULL;

CREATE TABLE cash_closings (
    id                TEXT PRIMARY KEY,
    staff_id          TEXT NOT NULL,
    staff_name        TEXT,
    day               TEXT NOT NULL,
    confirmed_by      TEXT,
    confirmed_by_name TEXT,
    totals            TEXT NOT NULL,   -- JSON: the day's totals as confirmed
    hlc               TEXT NOT NULL,
    device_id         TEXT NOT NULL,
    at                TEXT NOT NULL
) STRICT;
CREATE INDEX cash_closings_staff_day ON cash_closings (staff_id, day);
