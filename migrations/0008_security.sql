-- The retention sweep (server/src/retention.rs) deletes webhook events older than the admin's
-- retention setting; without this index each daily sweep would scan the whole outbox.
CREATE INDEX webhook_events_time ON webhook_events (created_at);

-- Per-user permission for webhook URLs on private/loopback addresses (the server-wide setting
-- was all-or-nothing): a receiver on the same host for one trusted user, not for everyone.
ALTER TABLE users ADD COLUMN allow_private_webhooks INTEGER NOT NULL DEFAULT 0;
