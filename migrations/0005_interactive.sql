-- Interactive messages (contract §4 /send-interactive): what each one offered, so that a tap,
-- a typed "2" (text fallback) or a poll vote resolves to the button's or row's id and text.

-- How a session's interactive messages render for phones that do not show buttons, unless a
-- request says otherwise: 'none' (buttons only), 'text' (numbered menu), 'poll'.
ALTER TABLE sessions ADD COLUMN interactive_fallback TEXT NOT NULL DEFAULT 'none'
    CHECK (interactive_fallback IN ('none', 'text', 'poll'));

CREATE TABLE interactive_messages (
    session_id   TEXT NOT NULL,
    -- The id WhatsApp gave the sent message (the native one, or its text/poll rendering).
    message_id   TEXT NOT NULL,
    -- Who it went to (digits or a group JID): only an answer from that chat resolves.
    chat         TEXT NOT NULL,
    -- 'button' or 'list': which interaction.* event an answer makes.
    kind         TEXT NOT NULL CHECK (kind IN ('button', 'list')),
    -- The checked model as JSON (app::model::Interactive): buttons or sections and rows.
    content      TEXT NOT NULL,
    -- How it was rendered: 'none' (native), 'text' or 'poll'.
    fallback     TEXT NOT NULL CHECK (fallback IN ('none', 'text', 'poll')),
    created_at   INTEGER NOT NULL,
    -- When interaction.timeout is due (expiresIn); NULL: never.
    expires_at   INTEGER,
    -- The first answer, and the timeout once emitted: each at most once.
    answered_at  INTEGER,
    timed_out_at INTEGER,
    PRIMARY KEY (session_id, message_id),
    FOREIGN KEY (session_id, message_id) REFERENCES messages (session_id, id) ON DELETE CASCADE
);
-- The latest open text-fallback menu in a chat (a typed "2" answers it).
CREATE INDEX interactive_chat ON interactive_messages (session_id, chat, created_at);
-- The timeout loop's queue.
CREATE INDEX interactive_due ON interactive_messages (expires_at)
    WHERE expires_at IS NOT NULL AND answered_at IS NULL AND timed_out_at IS NULL;
