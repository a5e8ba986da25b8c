-- Province-wide settings (issue 13, item 6). The province's values arrive
-- by sync as `province_setting` records (one per key, written only by the
-- provincial server); a center's overrides of the keys the province lets it
-- change are `setting_override` records of the center. Which value applies
-- is resolved when the desk reads its reference settings.
CREATE TABLE province_settings (
    id                  TEXT PRIMARY KEY,  -- province_setting_id(key)
    key                 TEXT NOT NULL UNIQUE,
    value               TEXT,              -- JSON; NULL: the province has no value
    center_may_override INTEGER NOT NULL,
    field_clocks        TEXT NOT NULL
) STRICT;

CREATE TABLE setting_overrides (
    id           TEXT PRIMARY KEY,         -- override_id(key)
    key          TEXT NOT NULL UNIQUE,
    value        TEXT,                     -- JSON; NULL: back to the province's value
    field_clocks TEXT NOT NULL
) STRICT;
