-- Webhooks: where events go, the events themselves, one delivery per (event, endpoint), and
-- every attempt. Events and deliveries are written in the same transaction as the message
-- record they describe, before anything is sent: the outbox that makes "no event lost" true.

-- A receiver. session_id NULL is the global endpoint (admin), which gets every session's events.
CREATE TABLE webhook_endpoints (
    id              TEXT PRIMARY KEY,
    session_id      TEXT UNIQUE REFERENCES sessions (id) ON DELETE CASCADE,
    url             TEXT NOT NULL,
    -- HMAC key; empty = unsigned. Needed in clear to sign, never shown back in full.
    secret          TEXT NOT NULL DEFAULT '',
    -- JSON array of event names; empty = every event.
    events          TEXT NOT NULL DEFAULT '[]',
    -- 0 after a 410 Gone: the receiver asked to stop.
    enabled         INTEGER NOT NULL DEFAULT 1,
    disabled_reason TEXT,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
-- At most one global endpoint.
CREATE UNIQUE INDEX webhook_endpoints_one_global ON webhook_endpoints ((session_id IS NULL))
    WHERE session_id IS NULL;

-- One event, with the exact body bytes every delivery of it sends (so signatures and
-- X-Webhook-Id stay the same across retries).
CREATE TABLE webhook_events (
    id         TEXT PRIMARY KEY,
    session_id TEXT,
    event      TEXT NOT NULL,
    body       TEXT NOT NULL,
    created_at INTEGER NOT NULL
);

-- One event going to one endpoint.
CREATE TABLE webhook_deliveries (
    id              TEXT PRIMARY KEY,
    event_id        TEXT NOT NULL REFERENCES webhook_events (id) ON DELETE CASCADE,
    endpoint_id     TEXT REFERENCES webhook_endpoints (id) ON DELETE SET NULL,
    -- The session whose owner may see this delivery; NULL for the global endpoint (admins).
    owner_session   TEXT,
    -- pending (due at next_attempt_at), delivered, failed (schedule spent, 410, endpoint gone).
    status          TEXT NOT NULL CHECK (status IN ('pending', 'delivered', 'failed')),
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER,
    last_status     INTEGER,
    last_error      TEXT,
    -- 1 when the next attempt was asked for by hand (the retry button).
    manual          INTEGER NOT NULL DEFAULT 0,
    created_at      INTEGER NOT NULL,
    updated_at      INTEGER NOT NULL
);
CREATE INDEX webhook_deliveries_due ON webhook_deliveries (status, next_attempt_at);
CREATE INDEX webhook_deliveries_created ON webhook_deliveries (created_at);

-- Every HTTP attempt, for the delivery log.
CREATE TABLE webhook_attempts (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    delivery_id      TEXT NOT NULL REFERENCES webhook_deliveries (id) ON DELETE CASCADE,
    at               INTEGER NOT NULL,
    -- scheduled or manual (the retry button).
    trigger          TEXT NOT NULL,
    status_code      INTEGER,
    latency_ms       INTEGER NOT NULL,
    response_excerpt TEXT,
    error            TEXT
);
CREATE INDEX webhook_attempts_delivery ON webhook_attempts (delivery_id);
