-- The dashboard's Chats page and GET /api/sessions/{id}/chats: a session's conversations,
-- newest first, each with its last message and the contact's push name.
-- The name a contact's WhatsApp shows (its push name) as it came with each message in; NULL
-- for the session's own messages and for engines that give none.
ALTER TABLE messages ADD COLUMN push_name TEXT;
-- One chat's messages in time order: the chat list takes each chat's newest message from it
-- and a thread pages back through it, neither scanning the session's other chats.
CREATE INDEX messages_chat_time ON messages (session_id, chat, created_at);
