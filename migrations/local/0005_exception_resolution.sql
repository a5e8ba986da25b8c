-- Sync exceptions resolved by staff. A resolution is an op (entity
-- `sync_exception`, event `exception_resolved`) every desk of the center
-- pulls; it is kept here by the exception's id whether or not that desk
-- has recorded the exception yet (exceptions are derived locally when the
-- conflicting ops arrive, possibly after the resolution), and an exception
-- recorded or re-derived later takes its resolution from here.
-- Two desks resolving the same exception: the resolution with the lowest
-- (hlc, op id) wins on every desk.
CREATE TABLE exception_resolutions (
    exception_id TEXT PRIMARY KEY,
    op_id        TEXT NOT NULL,       -- the resolving op (sync_exceptions.resolved_by)
    hlc          TEXT NOT NULL,       -- the op's clock, sortable
    note         TEXT NOT NULL,
    staff_id     TEXT,
    staff_name   TEXT NOT NULL,
    resolved_at  TEXT NOT NULL
) STRICT;
