-- Locations, contact cards and polls (contract §11): what they carry besides their text, as
-- the JSON object webhooks show (`{"location":…}`, `{"contacts":[…]}`, `{"poll":…}`). JSON
-- rather than columns: each kind has its own shape, nothing queries inside it, and the
-- message log returns it as it is.
ALTER TABLE messages ADD COLUMN details TEXT;
-- Edits and deletes for everyone (`/edit-message`, `/delete-message`, or a contact's own):
-- the body is the latest text; a deleted message keeps its text in the record.
ALTER TABLE messages ADD COLUMN edited_at INTEGER;
ALTER TABLE messages ADD COLUMN revoked_at INTEGER;
