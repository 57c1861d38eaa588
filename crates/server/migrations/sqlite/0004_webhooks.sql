-- Webhooks (seed 003): an outbox written in the same transaction as every
-- status change, delivered by a worker with retries and back-off.
ALTER TABLE merchants ADD COLUMN webhook_secret TEXT NOT NULL DEFAULT '';
ALTER TABLE merchants ADD COLUMN webhook_username TEXT;
ALTER TABLE merchants ADD COLUMN webhook_password TEXT;

CREATE TABLE webhook_events (
    id              TEXT PRIMARY KEY,      -- evt_<32 hex>, stable: receivers de-duplicate on it
    merchant_id     TEXT NOT NULL REFERENCES merchants (id),
    order_pk        TEXT NOT NULL REFERENCES orders (id),
    event_name      TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,         -- exactly the bytes that are signed and sent
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
);
CREATE INDEX webhook_events_due ON webhook_events (delivered_at, next_attempt_at);
UPDATE merchants SET webhook_secret = 'whsec_' || lower(hex(randomblob(24))) WHERE webhook_secret = '';
