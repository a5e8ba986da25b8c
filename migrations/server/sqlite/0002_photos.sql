-- Member photos: their own stream (kanoon_protocol::photos), not ops. One
-- row per (center, member): the latest version — (updated_at, device_id) —
-- wins. `seq` is the position in the photo log: a newer version replaces
-- the row and takes a new seq, so a desk pulling after its position gets
-- every photo that changed. Only the center's own desks pull them.
CREATE TABLE member_photos (
    seq         INTEGER PRIMARY KEY AUTOINCREMENT,
    center_id   TEXT NOT NULL REFERENCES centers (id),
    member_id   TEXT NOT NULL,
    mime        TEXT NOT NULL,
    bytes       BLOB NOT NULL,
    updated_at  TEXT NOT NULL,       -- RFC 3339 UTC, milliseconds (the desk's)
    device_id   TEXT NOT NULL,       -- the desk that changed it
    pushed_by   TEXT NOT NULL REFERENCES devices (id),
    received_at TEXT NOT NULL,
    UNIQUE (center_id, member_id)
) STRICT;
CREATE INDEX member_photos_center_seq ON member_photos (center_id, seq);
