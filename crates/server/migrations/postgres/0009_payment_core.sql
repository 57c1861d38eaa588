-- Payment core (issue 13); see the SQLite migration of the same number.
ALTER TABLE orders ADD COLUMN allowed_methods TEXT;
ALTER TABLE txns ADD COLUMN seq BIGINT NOT NULL DEFAULT 1;
ALTER TABLE txns ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
ALTER TABLE txns ADD COLUMN gateway_response TEXT;
ALTER TABLE merchants ADD COLUMN webhook_events TEXT;
ALTER TABLE webhook_events ALTER COLUMN order_pk DROP NOT NULL;
ALTER TABLE webhook_events ADD COLUMN dead_at BIGINT;
DROP INDEX webhook_events_due;
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX webhook_events_by_merchant ON webhook_events (merchant_id, created_at);
-- Attempts recorded before: number them in the order they were made.
UPDATE txns SET seq = (SELECT COUNT(*) FROM txns t WHERE t.order_pk = txns.order_pk
    AND (t.created_at < txns.created_at OR (t.created_at = txns.created_at AND t.rowid <= txns.rowid)));
CREATE UNIQUE INDEX txns_seq ON txns (order_pk, seq);
-- Attempts waiting on a bank page from before: they fail when their order expires, as new ones do.
UPDATE txns SET settle_at = (SELECT expires_at FROM orders WHERE orders.id = txns.order_pk), settle_status = 'AUTHENTICATION_FAILED'
    WHERE status = 'PENDING_VBV' AND settle_at IS NULL;
