-- Accounts, logins, API keys and global settings (contract §1, §2).
-- Portable SQL on purpose: TEXT ids, INTEGER millisecond timestamps, no SQLite-only types,
-- so a PostgreSQL migration set can mirror this one.

-- People who sign in to the dashboard or own API keys.
CREATE TABLE users (
    id            TEXT PRIMARY KEY,
    username      TEXT NOT NULL,
    -- Lower-cased username: names are unique regardless of case ("Budi" and "budi" clash).
    username_key  TEXT NOT NULL UNIQUE,
    -- argon2id PHC string; never leaves the server.
    password_hash TEXT NOT NULL,
    role          TEXT NOT NULL CHECK (role IN ('admin', 'user')),
    -- 1 = cannot sign in, cookies and keys stop working at once.
    disabled      INTEGER NOT NULL DEFAULT 0,
    created_at    INTEGER NOT NULL
);

-- One row per signed-in browser (the JWT's `jti`). Signing out deletes the row, so a copied
-- cookie stops working even before it expires.
CREATE TABLE logins (
    id         TEXT PRIMARY KEY,
    user_id    TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    created_at INTEGER NOT NULL,
    expires_at INTEGER NOT NULL
);
CREATE INDEX logins_user ON logins (user_id);

-- Linked WhatsApp accounts. Created here so API keys can be scoped to one; the session
-- engine fills in status and phone.
CREATE TABLE sessions (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    owner_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    status       TEXT NOT NULL DEFAULT 'disconnected',
    phone_number TEXT,
    push_name    TEXT,
    created_at   INTEGER NOT NULL
);
CREATE INDEX sessions_owner ON sessions (owner_id);

-- API keys. Only the SHA-256 of the secret is kept; `prefix` is the visible start of it.
CREATE TABLE api_keys (
    id           TEXT PRIMARY KEY,
    name         TEXT NOT NULL,
    prefix       TEXT NOT NULL,
    key_hash     TEXT NOT NULL UNIQUE,
    owner_id     TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- NULL: any of the owner's sessions.
    session_id   TEXT REFERENCES sessions (id) ON DELETE CASCADE,
    created_at   INTEGER NOT NULL,
    last_used_at INTEGER
);
CREATE INDEX api_keys_owner ON api_keys (owner_id);

-- Global settings as key/value text (JSON values), e.g. allow_registration, jwt_secret.
CREATE TABLE settings (
    key   TEXT PRIMARY KEY,
    value TEXT NOT NULL
);
