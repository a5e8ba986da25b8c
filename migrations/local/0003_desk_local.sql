-- Desk-local data that never syncs: staff password hashes (argon2, made by
-- the desktop shell) and drafts of forms not yet saved, so that what an
-- instructor typed survives a closed window, a crash or a power cut.

CREATE TABLE staff_passwords (
    staff_id TEXT PRIMARY KEY REFERENCES staff (id),
    hash     TEXT NOT NULL,
    set_at   TEXT NOT NULL
) STRICT;

CREATE TABLE drafts (
    form     TEXT PRIMARY KEY,
    body     TEXT NOT NULL,
    saved_at TEXT NOT NULL
) STRICT;
