-- Enrolment codes expire (`expires_at`; codes made before this migration
-- a week after they were made) and may name the one enrolled device they
-- re-enrol (`for_device`): a code without one enrols only a new device.
-- A revoked device (`revoked_at`) is refused until re-enrolled by a code
-- made for it.
ALTER TABLE enrol_codes ADD COLUMN expires_at timestamptz;
ALTER TABLE enrol_codes ADD COLUMN for_device uuid;
UPDATE enrol_codes SET expires_at = created_at + interval '7 days';
ALTER TABLE enrol_codes ALTER COLUMN expires_at SET NOT NULL;
ALTER TABLE devices ADD COLUMN revoked_at timestamptz;
