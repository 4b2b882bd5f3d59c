-- The message an event is about (message.*, interaction.*, poll.vote: their data's
-- `messageId`), so GET /api/messages/{id}/events finds a message's events by index instead of
-- reading every body the session's events kept.
ALTER TABLE webhook_events ADD COLUMN message_id TEXT;
UPDATE webhook_events SET message_id = json_extract(body, '$.data.messageId')
    WHERE json_valid(body) AND json_extract(body, '$.data.messageId') IS NOT NULL;
CREATE INDEX webhook_events_message ON webhook_events (session_id, message_id)
    WHERE message_id IS NOT NULL;
