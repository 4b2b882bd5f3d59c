-- The message log (GET /api/messages, the dashboard's Messages page) lists the newest messages
-- across all of a user's sessions; without this index that is a full scan and sort.
CREATE INDEX messages_time ON messages (created_at);
