-- A postal member's wish list (issue 14): one row per member and title,
-- its id derived from both, so a wish made at two desks is one record.
-- A wish is open until withdrawn or until the member borrows the title
-- after wishing it (derived from the loans, never written).
CREATE TABLE wishes (
    id           TEXT PRIMARY KEY,
    center_id    TEXT NOT NULL,
    member_id    TEXT NOT NULL,
    title_id     TEXT NOT NULL,
    wished_at    TEXT NOT NULL,        -- UTC, RFC 3339
    -- The clock of the write that set `wished_at` (sortable, as events.hlc):
    -- a loan of the title with a later clock fulfils the wish.
    wished_hlc   TEXT NOT NULL,
    withdrawn    INTEGER NOT NULL,
    field_clocks TEXT NOT NULL,
    created_at   TEXT NOT NULL
) STRICT;
CREATE INDEX wishes_member ON wishes (member_id, wished_hlc) WHERE withdrawn = 0;
