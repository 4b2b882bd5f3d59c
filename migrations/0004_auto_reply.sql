-- Auto-reply (contract §6): a switch per user and an ordered list of keyword rules. A rule
-- applies to every session of its owner.

CREATE TABLE auto_reply_settings (
    user_id TEXT PRIMARY KEY REFERENCES users (id) ON DELETE CASCADE,
    enabled INTEGER NOT NULL DEFAULT 0
);

CREATE TABLE auto_reply_rules (
    id           TEXT PRIMARY KEY,
    user_id      TEXT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    -- 0-based order; the first enabled match by position wins.
    position     INTEGER NOT NULL,
    keyword      TEXT NOT NULL,
    -- exact | contains | starts_with | word
    match_mode   TEXT NOT NULL CHECK (match_mode IN ('exact', 'contains', 'starts_with', 'word')),
    reply        TEXT NOT NULL,
    enabled      INTEGER NOT NULL DEFAULT 1,
    -- Group messages are answered only by rules that allow it.
    allow_groups INTEGER NOT NULL DEFAULT 0,
    created_at   INTEGER NOT NULL,
    updated_at   INTEGER NOT NULL
);
CREATE INDEX auto_reply_rules_user ON auto_reply_rules (user_id, position);
