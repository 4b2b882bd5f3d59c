-- Media messages (contract §11): the file's type, size, name and SHA-256. The bytes live under
-- the data dir at media/<sha256>, content-addressed, so a file sent a thousand times (a price
-- list) is kept once.
ALTER TABLE messages ADD COLUMN media_mimetype TEXT;
ALTER TABLE messages ADD COLUMN media_size INTEGER;
ALTER TABLE messages ADD COLUMN media_filename TEXT;
ALTER TABLE messages ADD COLUMN media_sha256 TEXT;
-- GET /api/messages/{id}/media finds a media message by its id alone (the primary key starts
-- with the session), and a refused send or the retention sweep asks whether any message still
-- uses a file: both partial, so text messages cost nothing.
CREATE INDEX messages_media_id ON messages (id) WHERE media_sha256 IS NOT NULL;
CREATE INDEX messages_media_file ON messages (media_sha256) WHERE media_sha256 IS NOT NULL;
