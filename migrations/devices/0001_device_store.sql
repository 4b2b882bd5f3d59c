-- The WhatsApp device stores of every session, in one table of one database
-- (`data/whatsapp/devices.db`): whatsapp-rust's storage traits are key-value at heart, so each
-- row is one value of one kind (identity, session, prekey, sync key, …) under up to three key
-- parts. `n` and `ts` carry the numbers some kinds are queried or expired by.
CREATE TABLE device_store (
    session TEXT NOT NULL,
    kind TEXT NOT NULL,
    k1 TEXT NOT NULL,
    k2 TEXT NOT NULL DEFAULT '',
    k3 TEXT NOT NULL DEFAULT '',
    value BLOB NOT NULL,
    n INTEGER NOT NULL DEFAULT 0,
    ts INTEGER,
    PRIMARY KEY (session, kind, k1, k2, k3)
) WITHOUT ROWID;

-- Sender-key device rows by device, and a phone number's LID.
CREATE INDEX device_store_k2 ON device_store (session, kind, k2);
-- Expiry sweeps (sent messages, pending inbound, message secrets, trusted-contact tokens).
CREATE INDEX device_store_ts ON device_store (session, kind, ts);
