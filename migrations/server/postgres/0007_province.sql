-- The province as the author of its settings (kanoon_protocol::province):
-- a center row and a device row for the ops the server itself writes
-- (`province_setting`, scope 'province'). No desk enrols at this center
-- (its code is not digits) and the device has no token: its hash is not a
-- SHA-256 hex and it is revoked.
INSERT INTO centers (id, code, name, kind, created_at)
VALUES ('95fc5217-a8a5-52d4-8bb2-8e15a6075abf', 'province', 'استان', 'fixed',
        now());
INSERT INTO devices (id, center_id, desk_number, name, token_hash, enrolled_at, revoked_at)
VALUES ('57995ac2-c81e-528b-b6e9-037f46bc6ff0', '95fc5217-a8a5-52d4-8bb2-8e15a6075abf', 1, 'سرور استان',
        'none: the province pushes through no token', now(),
        now());
