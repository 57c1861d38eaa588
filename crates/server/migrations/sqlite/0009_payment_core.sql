-- Payment core (issue 13).
-- The methods the merchant allowed for an order (payment_options,
-- payment_filter), '|'-separated; NULL: every method the merchant enabled.
ALTER TABLE orders ADD COLUMN allowed_methods TEXT;
-- Attempts: their number within the order (Juspay's txn_id is
-- merchant-order-n), what the status body shows of the instrument (never
-- the card number or CVV) and the gateway's last answer, as JSON.
ALTER TABLE txns ADD COLUMN seq INTEGER NOT NULL DEFAULT 1;
ALTER TABLE txns ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
ALTER TABLE txns ADD COLUMN gateway_response TEXT;
-- The events a merchant receives (space-separated names; NULL: the default set).
ALTER TABLE merchants ADD COLUMN webhook_events TEXT;
-- Webhook events may belong to no order (mandates, notifications), and die
-- after the last retry of a bounded schedule, to be redelivered on request.
CREATE TABLE webhook_events_new (
    id              TEXT PRIMARY KEY,
    merchant_id     TEXT NOT NULL REFERENCES merchants (id),
    order_pk        TEXT REFERENCES orders (id),
    event_name      TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,
    attempts        INTEGER NOT NULL DEFAULT 0,
    next_attempt_at INTEGER NOT NULL,
    delivered_at    INTEGER,
    dead_at         INTEGER,
    last_error      TEXT,
    created_at      INTEGER NOT NULL
);
INSERT INTO webhook_events_new (id, merchant_id, order_pk, event_name, url, body, attempts, next_attempt_at, delivered_at, last_error, created_at)
    SELECT id, merchant_id, order_pk, event_name, url, body, attempts, next_attempt_at, delivered_at, last_error, created_at FROM webhook_events;
DROP TABLE webhook_events;
ALTER TABLE webhook_events_new RENAME TO webhook_events;
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX webhook_events_by_merchant ON webhook_events (merchant_id, created_at);
-- Attempts recorded before: number them in the order they were made.
UPDATE txns SET seq = (SELECT COUNT(*) FROM txns t WHERE t.order_pk = txns.order_pk
    AND (t.created_at < txns.created_at OR (t.created_at = txns.created_at AND t.rowid <= txns.rowid)));
CREATE UNIQUE INDEX txns_seq ON txns (order_pk, seq);
-- Attempts waiting on a bank page from before: they fail when their order expires, as new ones do.
UPDATE txns SET settle_at = (SELECT expires_at FROM orders WHERE orders.id = txns.order_pk), settle_status = 'AUTHENTICATION_FAILED'
    WHERE status = 'PENDING_VBV' AND settle_at IS NULL;
