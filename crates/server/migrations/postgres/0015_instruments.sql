-- Stored instruments (issue 15): saved cards, mandates, their executions and
-- pre-debit notifications.

-- A customer's saved card: what the page shows and the gateway's reference
-- to the card it keeps. Never the number or the security code.
CREATE TABLE saved_cards (
    token TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    fingerprint TEXT NOT NULL,
    vault_ref TEXT NOT NULL,
    card_isin TEXT NOT NULL,
    last4 TEXT NOT NULL,
    brand TEXT,
    exp_month INTEGER NOT NULL,
    exp_year INTEGER NOT NULL,
    name TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    UNIQUE (merchant_id, customer_id, fingerprint)
);

-- The sandbox gateway's own card vault: which of its test outcomes a vaulted
-- card has. Kassa's tables hold only `vault_ref`.
CREATE TABLE sandbox_vault (
    ref TEXT PRIMARY KEY,
    scenario TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

CREATE TABLE mandates (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL,
    customer_id TEXT NOT NULL,
    order_pk TEXT NOT NULL,
    txn_id TEXT NOT NULL UNIQUE,
    token TEXT NOT NULL,
    status TEXT NOT NULL,
    method TEXT NOT NULL,
    instrument TEXT NOT NULL,
    payment_info TEXT NOT NULL,
    spec TEXT NOT NULL,
    end_at BIGINT NOT NULL,
    pause_start BIGINT,
    pause_end BIGINT,
    activated_at BIGINT,
    last_activated_at BIGINT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL
);
CREATE INDEX mandates_customer ON mandates (merchant_id, customer_id, created_at);
CREATE INDEX mandates_live ON mandates (end_at) WHERE status IN ('ACTIVE', 'PAUSED');

-- A debit of a mandate, one per order. At most one that has not failed per
-- mandate and cycle (a failed debit may be retried in its cycle).
CREATE TABLE mandate_executions (
    order_pk TEXT PRIMARY KEY,
    mandate_id TEXT NOT NULL,
    cycle TEXT NOT NULL,
    status TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
CREATE UNIQUE INDEX mandate_executions_cycle ON mandate_executions (mandate_id, cycle) WHERE status <> 'FAILED';

CREATE TABLE mandate_notifications (
    id TEXT PRIMARY KEY,
    mandate_id TEXT NOT NULL,
    object_reference_id TEXT NOT NULL,
    amount_minor BIGINT NOT NULL,
    txn_date BIGINT NOT NULL,
    description TEXT NOT NULL,
    status TEXT NOT NULL,
    settle_at BIGINT,
    settle_status TEXT,
    created_at BIGINT NOT NULL,
    updated_at BIGINT NOT NULL,
    UNIQUE (mandate_id, object_reference_id)
);
CREATE INDEX mandate_notifications_due ON mandate_notifications (settle_at) WHERE settle_at IS NOT NULL;

