-- Desk-local, never synced, never in the outbox, kept across a restore:
-- wrong-password runs per username (sign-in slows down after five in a
-- row, measured with the desk's clock, so a restart does not reset it) and
-- the backup files this desk wrote (rotation deletes only these).

CREATE TABLE sign_in_failures (
    username     TEXT PRIMARY KEY,
    failures     INTEGER NOT NULL CHECK (failures > 0),
    locked_until TEXT
) STRICT;

CREATE TABLE backups_written (
    path       TEXT PRIMARY KEY,
    folder     TEXT NOT NULL,
    center_id  TEXT NOT NULL,
    written_at TEXT NOT NULL
) STRICT;
