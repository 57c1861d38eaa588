-- Refunds (seed 003): partial and multiple, never above what was paid, idempotent by unique_request_id.
ALTER TABLE orders ADD COLUMN amount_refunded_minor INTEGER NOT NULL DEFAULT 0
    CHECK (amount_refunded_minor >= 0 AND amount_refunded_minor <= amount_minor);

CREATE TABLE refunds (
    id                TEXT PRIMARY KEY,    -- rfd_<32 hex>
    order_pk          TEXT NOT NULL REFERENCES orders (id),
    unique_request_id TEXT NOT NULL,
    amount_minor      INTEGER NOT NULL CHECK (amount_minor > 0),
    status            TEXT NOT NULL,
    response          TEXT,                -- the first answer, replayed for a repeat
    created_at        INTEGER NOT NULL,
    UNIQUE (order_pk, unique_request_id)
);
CREATE INDEX refunds_by_order ON refunds (order_pk, created_at);
