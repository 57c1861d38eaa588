-- Kassa schema 5 on PostgreSQL: the same tables, columns and rules as the
-- SQLite migrations 0001-0005. Times are Unix milliseconds; money is integer
-- minor units. `rowid` stands in for SQLite's implicit rowid, so the same
-- queries order ties the same way on both databases.
CREATE TABLE server_keys (
    name  TEXT PRIMARY KEY,
    value TEXT NOT NULL
);

CREATE TABLE merchants (
    id               TEXT PRIMARY KEY,
    name             TEXT NOT NULL,
    api_key_hash     TEXT NOT NULL UNIQUE,  -- SHA-256 of the API key; the key itself is never stored
    response_key     TEXT NOT NULL,
    client_id        TEXT NOT NULL,
    webhook_url      TEXT,
    enabled_methods  TEXT NOT NULL DEFAULT 'card|nb|wallet',
    order_ttl_secs   BIGINT NOT NULL DEFAULT 900,
    created_at       BIGINT NOT NULL,
    webhook_secret   TEXT NOT NULL,
    webhook_username TEXT,
    webhook_password TEXT
);

CREATE TABLE orders (
    id                    TEXT PRIMARY KEY,  -- ord_<32 hex>
    merchant_id           TEXT NOT NULL REFERENCES merchants (id),
    order_id              TEXT NOT NULL,
    order_id_key          TEXT NOT NULL,     -- lower case: order ids are unique per merchant, case-insensitively
    amount_minor          BIGINT NOT NULL CHECK (amount_minor > 0),
    currency              TEXT NOT NULL,
    status                TEXT NOT NULL,
    customer_id           TEXT,
    customer_email        TEXT,
    customer_phone        TEXT,
    description           TEXT,
    product_id            TEXT,
    return_url            TEXT,
    extra                 TEXT NOT NULL DEFAULT '{}',
    fingerprint           TEXT NOT NULL,
    created_at            BIGINT NOT NULL,
    updated_at            BIGINT NOT NULL,
    expires_at            BIGINT NOT NULL,
    amount_refunded_minor BIGINT NOT NULL DEFAULT 0,
    UNIQUE (merchant_id, order_id_key),
    -- Refunds never exceed what was paid (seed 003).
    CHECK (amount_refunded_minor >= 0 AND amount_refunded_minor <= amount_minor)
);

CREATE TABLE txns (
    rowid         BIGINT GENERATED ALWAYS AS IDENTITY,
    id            TEXT PRIMARY KEY,          -- txn_<32 hex>
    order_pk      TEXT NOT NULL REFERENCES orders (id),
    method        TEXT NOT NULL,
    method_detail TEXT,
    card_last4    TEXT,
    scenario      TEXT NOT NULL,
    status        TEXT NOT NULL,
    amount_minor  BIGINT NOT NULL CHECK (amount_minor > 0),
    created_at    BIGINT NOT NULL,
    updated_at    BIGINT NOT NULL
);
CREATE INDEX txns_by_order ON txns (order_pk, created_at);
-- One order has at most one successful payment (seed 002), whatever the concurrency.
CREATE UNIQUE INDEX txns_one_charged ON txns (order_pk) WHERE status = 'CHARGED';

CREATE TABLE refunds (
    rowid             BIGINT GENERATED ALWAYS AS IDENTITY,
    id                TEXT PRIMARY KEY,      -- rfd_<32 hex>
    order_pk          TEXT NOT NULL REFERENCES orders (id),
    unique_request_id TEXT NOT NULL,
    amount_minor      BIGINT NOT NULL CHECK (amount_minor > 0),
    status            TEXT NOT NULL,
    response          TEXT,                  -- the first answer, replayed for a repeat
    created_at        BIGINT NOT NULL,
    UNIQUE (order_pk, unique_request_id)
);
CREATE INDEX refunds_by_order ON refunds (order_pk, created_at);

CREATE TABLE customers (
    rowid               BIGINT GENERATED ALWAYS AS IDENTITY,
    id                  TEXT PRIMARY KEY,    -- cst_<32 hex>
    merchant_id         TEXT NOT NULL REFERENCES merchants (id),
    object_reference_id TEXT NOT NULL,
    mobile_number       TEXT,
    mobile_country_code TEXT,
    email_address       TEXT,
    first_name          TEXT,
    last_name           TEXT,
    created_at          BIGINT NOT NULL,
    updated_at          BIGINT NOT NULL,
    UNIQUE (merchant_id, object_reference_id)
);

-- Webhooks (seed 003): an outbox written in the same transaction as every status change.
CREATE TABLE webhook_events (
    id              TEXT PRIMARY KEY,        -- evt_<32 hex>, stable: receivers de-duplicate on it
    merchant_id     TEXT NOT NULL REFERENCES merchants (id),
    order_pk        TEXT NOT NULL REFERENCES orders (id),
    event_name      TEXT NOT NULL,
    url             TEXT NOT NULL,
    body            TEXT NOT NULL,           -- exactly the bytes that are signed and sent
    attempts        BIGINT NOT NULL DEFAULT 0,
    next_attempt_at BIGINT NOT NULL,
    delivered_at    BIGINT,
    last_error      TEXT,
    created_at      BIGINT NOT NULL
);
CREATE INDEX webhook_events_due ON webhook_events (delivered_at, next_attempt_at);

-- Public keys that verify Process SDK orderDetails signatures (seed 001), named by merchantKeyId.
CREATE TABLE merchant_keys (
    merchant_id    TEXT NOT NULL REFERENCES merchants (id),
    key_id         TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    created_at     BIGINT NOT NULL,
    PRIMARY KEY (merchant_id, key_id)
);
