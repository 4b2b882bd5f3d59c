-- The dispatcher picks due deliveries per endpoint (a few of each, oldest first): with this
-- index each endpoint's pick is an index range, so picking stays cheap however large the
-- backlog grows (before, one query sorted every pending delivery on each pick).
CREATE INDEX webhook_deliveries_endpoint_due
    ON webhook_deliveries (endpoint_id, status, next_attempt_at, id);
