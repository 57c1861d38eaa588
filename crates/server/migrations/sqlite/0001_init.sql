-- Kassa schema v1. Times are Unix milliseconds; money is integer minor units.
CREATE TABLE server_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE merchants (
    id              TEXT PRIMARY KEY,
    name            TEXT NOT NULL,
    api_key_hash    TEXT NOT NULL UNIQUE,  -- SHA-256 of the API key; the key itself is never stored
    response_key    TEXT NOT NULL,
    client_id       TEXT NOT NULL,
    webhook_url     TEXT,
    enabled_methods TEXT NOT NULL DEFAULT 'card|nb|wallet',
    order_ttl_secs  INTEGER NOT NULL DEFAULT 900,
    created_at      INTEGER NOT NULL
);

CREATE TABLE orders (
    id             TEXT PRIMARY KEY,       -- ord_<32 hex>
    merchant_id    TEXT NOT NULL REFERENCES merchants (id),
    order_id       TEXT NOT NULL,
    order_id_key   TEXT NOT NULL,          -- lower case: order ids are unique per merchant, case-insensitively
    amount_minor   INTEGER NOT NULL CHECK (amount_minor > 0),
    currency       TEXT NOT NULL,
    status         TEXT NOT NULL,
    customer_id    TEXT,
    customer_email TEXT,
    customer_phone TEXT,
    description    TEXT,
    product_id     TEXT,
    return_url     TEXT,
    extra          TEXT NOT NULL DEFAULT '{}',
    fingerprint    TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL,
    expires_at     INTEGER NOT NULL,
    UNIQUE (merchant_id, order_id_key)
);

CREATE TABLE txns (
    id            TEXT PRIMARY KEY,        -- txn_<32 hex>
    order_pk      TEXT NOT NULL REFERENCES orders (id),
    method        TEXT NOT NULL,
    method_detail TEXT,
    card_last4    TEXT,
    scenario      TEXT NOT NULL,
    status        TEXT NOT NULL,
    amount_minor  INTEGER NOT NULL CHECK (amount_minor > 0),
    created_at    INTEGER NOT NULL,
    updated_at    INTEGER NOT NULL
);
CREATE INDEX txns_by_order ON txns (order_pk, created_at);
-- One order has at most one successful payment (seed 002), whatever the concurrency.
CREATE UNIQUE INDEX txns_one_charged ON txns (order_pk) WHERE status = 'CHARGED';
