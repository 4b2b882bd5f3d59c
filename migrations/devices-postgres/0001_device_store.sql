-- The WhatsApp device stores of every session on PostgreSQL (`--whatsapp-store-url`): the same
-- one table as SQLite's `devices.db` (see migrations/devices), where the database's backups and
-- replication cover the keys, and a node taking a session over finds them without a new scan.
-- Keys compare byte by byte (COLLATE "C"), as SQLite's do: a user's addresses are found as a
-- key range, and the latest app-state key is the greatest hex id.
CREATE TABLE device_store (
    session TEXT COLLATE "C" NOT NULL,
    kind TEXT COLLATE "C" NOT NULL,
    k1 TEXT COLLATE "C" NOT NULL,
    k2 TEXT COLLATE "C" NOT NULL DEFAULT '',
    k3 TEXT COLLATE "C" NOT NULL DEFAULT '',
    value BYTEA NOT NULL,
    n BIGINT NOT NULL DEFAULT 0,
    ts BIGINT,
    PRIMARY KEY (session, kind, k1, k2, k3)
);

-- Sender-key device rows by device, and a phone number's LID.
CREATE INDEX device_store_k2 ON device_store (session, kind, k2);
-- Expiry sweeps (sent messages, pending inbound, message secrets, trusted-contact tokens).
CREATE INDEX device_store_ts ON device_store (session, kind, ts);
