-- Idempotency keys of the send endpoints (server/src/idempotency.rs): the same key with the same
-- request within 24 h answers the first answer again instead of sending a second message.
CREATE TABLE idempotency_keys (
    -- Keys are per account: two users may pick the same key.
    owner_id   TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key        TEXT NOT NULL,
    -- SHA-256 (hex) of the method, path, query, session header and body of the first request.
    request    TEXT NOT NULL,
    -- NULL while the first request is running; then its answer.
    status     INTEGER,
    body       BLOB,
    created_at INTEGER NOT NULL,
    PRIMARY KEY (owner_id, key)
);
CREATE INDEX idempotency_keys_time ON idempotency_keys (created_at);
