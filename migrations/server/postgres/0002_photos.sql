-- Member photos: their own stream (kanoon_protocol::photos), not ops. One
-- row per (center, member): the latest version — (updated_at, device_id) —
-- wins. `seq` is the position in the photo log: a newer version replaces
-- the row and takes a new seq, so a desk pulling after its position gets
-- every photo that changed. Writers take PHOTO_LOG_LOCK until they commit,
-- so seqs commit in order (the same watermark rule as the op log).
CREATE TABLE member_photos (
    seq         bigint GENERATED ALWAYS AS IDENTITY PRIMARY KEY,
    center_id   uuid NOT NULL REFERENCES centers (id),
    member_id   uuid NOT NULL,
    mime        text NOT NULL,
    bytes       bytea NOT NULL,
    updated_at  text NOT NULL,       -- RFC 3339 UTC, milliseconds (the desk's)
    device_id   uuid NOT NULL,       -- the desk that changed it
    pushed_by   uuid NOT NULL REFERENCES devices (id),
    received_at timestamptz NOT NULL,
    UNIQUE (center_id, member_id)
);
CREATE INDEX member_photos_center_seq ON member_photos (center_id, seq);
