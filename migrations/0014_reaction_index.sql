-- The dashboard's Messages page shows each message's reactions beside it
-- (server::messages::reactions): a reaction is recorded as a message of type `reaction`
-- naming the message it is on in quoted_id, found through this index.
CREATE INDEX messages_reactions ON messages (session_id, quoted_id) WHERE type = 'reaction';
