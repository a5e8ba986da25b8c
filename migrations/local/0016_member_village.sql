-- A member belongs to one of the center's villages (issue 14): the
-- village's id, synced as a member field. The free-text `village` stays:
-- the village's name at the time, for members of desks of older versions
-- and for text typed before the center listed its villages.
ALTER TABLE members ADD COLUMN village_id TEXT;
CREATE INDEX members_village ON members (village_id) WHERE village_id IS NOT NULL;
