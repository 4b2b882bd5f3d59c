-- Every message a session sent or received, so that webhooks, replies to interactive
-- messages, quoting and the dashboard's log can look them up.
CREATE TABLE messages (
    -- WhatsApp's message id; unique within a session.
    id          TEXT NOT NULL,
    session_id  TEXT NOT NULL REFERENCES sessions (id) ON DELETE CASCADE,
    -- 'in': from a contact; 'out': sent by the session.
    direction   TEXT NOT NULL CHECK (direction IN ('in', 'out')),
    -- The chat: a person's digits or a group's JID.
    chat        TEXT NOT NULL,
    -- The author's digits (for groups, the participant); NULL for our own messages.
    sender      TEXT,
    -- text, interactive, image, … (contract §5).
    type        TEXT NOT NULL,
    body        TEXT NOT NULL DEFAULT '',
    -- For 'out': api, auto_reply or device.
    source      TEXT,
    quoted_id   TEXT,
    -- sent, delivered, read (out) or received (in).
    status      TEXT NOT NULL,
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL,
    PRIMARY KEY (session_id, id)
);
CREATE INDEX messages_session_time ON messages (session_id, created_at);
