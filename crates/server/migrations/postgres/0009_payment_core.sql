-- Payment core (issue 13); see the SQLite migration of the same number.
ALTER TABLE orders ADD COLUMN allowed_methods TEXT;
ALTER TABLE txns ADD COLUMN seq BIGINT NOT NULL DEFAULT 1;
ALTER TABLE txns ADD COLUMN details TEXT NOT NULL DEFAULT '{}';
ALTER TABLE txns ADD COLUMN gateway_response TEXT;
ALTER TABLE merchants ADD COLUMN webhook_events TEXT;
ALTER TABLE webhook_events ALTER COLUMN order_pk DROP NOT NULL;
ALTER TABLE webhook_events ADD COLUMN dead_at BIGINT;
ALTER TABLE webhook_events ADD COLUMN rowid BIGINT GENERATED ALWAYS AS IDENTITY;
DROP INDEX webhook_events_due;
CREATE INDEX webhook_events_due ON webhook_events (next_attempt_at) WHERE delivered_at IS NULL AND dead_at IS NULL;
CREATE INDEX webhook_events_by_merchant ON webhook_events (merchant_id, created_at);
