-- Member photos sync as their own low-priority stream
-- (kanoon_protocol::photos), not as ops. A photo's version is
-- (updated_at, device_id): the later one wins on every peer. `pushed` = 0
-- while this desk's change has not reached the server. Rebuilt without the
-- foreign key to members: a photo pulled before its member's record (two
-- streams) is kept, never refused.
CREATE TABLE member_photos_new (
    member_id  TEXT PRIMARY KEY,
    mime       TEXT NOT NULL,
    bytes      BLOB NOT NULL,
    updated_at TEXT NOT NULL,          -- RFC 3339 UTC, milliseconds
    device_id  TEXT NOT NULL,
    pushed     INTEGER NOT NULL DEFAULT 0
) STRICT;
INSERT INTO member_photos_new (member_id, mime, bytes, updated_at, device_id, pushed)
    SELECT member_id, mime, bytes, updated_at, coalesce((SELECT value FROM meta WHERE key = 'device_id'), ''), 0
    FROM member_photos;
DROP TABLE member_photos;
ALTER TABLE member_photos_new RENAME TO member_photos;
CREATE INDEX member_photos_unpushed ON member_photos (updated_at) WHERE pushed = 0;
