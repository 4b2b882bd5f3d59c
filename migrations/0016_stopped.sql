-- Sessions stopped by their owner (POST /api/sessions/{id}/stop): not connected, at start-up
-- either, until started again; their device store is kept, so starting needs no scan.
ALTER TABLE sessions ADD COLUMN stopped INTEGER NOT NULL DEFAULT 0;
