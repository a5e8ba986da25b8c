-- Enrolment codes expire (`expires_at`; codes made before this migration
-- a week after they were made) and may name the one enrolled device they
-- re-enrol (`for_device`): a code without one enrols only a new device.
-- A revoked device (`revoked_at`) is refused until re-enrolled by a code
-- made for it.
ALTER TABLE enrol_codes ADD COLUMN expires_at TEXT;
ALTER TABLE enrol_codes ADD COLUMN for_device TEXT;
UPDATE enrol_codes SET expires_at = strftime('%Y-%m-%dT%H:%M:%fZ', created_at, '+7 days');
ALTER TABLE devices ADD COLUMN revoked_at TEXT;
