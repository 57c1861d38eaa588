-- Gateway routing (issue 14); see the SQLite migration of the same number.
-- A merchant's accounts at real gateways, several per gateway told apart by
-- a reference id ('' for the one without); `priority` orders the default
-- preference (lowest first). Credentials are JSON, stored like the
-- merchant's other secrets. An empty base_url: this server's own sandbox of
-- that gateway.
CREATE TABLE gateway_accounts (
    id           TEXT PRIMARY KEY,
    merchant_id  TEXT NOT NULL REFERENCES merchants (id),
    gateway      TEXT NOT NULL,
    reference_id TEXT NOT NULL,
    priority     BIGINT NOT NULL,
    credentials  TEXT NOT NULL,
    base_url     TEXT NOT NULL,
    created_at   BIGINT NOT NULL,
    UNIQUE (merchant_id, gateway, reference_id)
);
-- How many accounts a merchant has: order creation reads the accounts only then.
ALTER TABLE merchants ADD COLUMN gateway_accounts BIGINT NOT NULL DEFAULT 0;
-- The account an order was routed to; NULL: Kassa's built-in sandbox.
ALTER TABLE orders ADD COLUMN gateway_account TEXT REFERENCES gateway_accounts (id);
-- The sandboxes of the gateways' own APIs (Razorpay, Paytm): their accounts
-- and the objects of their APIs (orders, payments, refunds) as the API
-- shows them, apart from Kassa's tables as a gateway's data would be.
CREATE TABLE psp_accounts (
    gateway    TEXT NOT NULL,
    key_id     TEXT NOT NULL,
    secret     TEXT NOT NULL,
    extra      TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (gateway, key_id)
);
CREATE TABLE psp_objects (
    gateway    TEXT NOT NULL,
    account    TEXT NOT NULL,
    kind       TEXT NOT NULL,
    id         TEXT NOT NULL,
    parent     TEXT,
    tag        TEXT,
    body       TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    PRIMARY KEY (gateway, id)
);
CREATE INDEX psp_objects_by_parent ON psp_objects (gateway, parent);
CREATE INDEX psp_objects_by_account ON psp_objects (gateway, account, kind, created_at);
CREATE INDEX psp_objects_by_tag ON psp_objects (gateway, account, kind, tag);
-- Refunds of orders paid through a gateway: the gateway's id for the refund,
-- and when to ask it again about one that is still PENDING (or to send it
-- again, when the gateway never answered).
ALTER TABLE refunds ADD COLUMN gateway_refund_id TEXT;
ALTER TABLE refunds ADD COLUMN check_at BIGINT;
-- Whether Kassa sent it a second time (once at most: after the gateway kept saying it has none).
ALTER TABLE refunds ADD COLUMN resent BIGINT NOT NULL DEFAULT 0;
CREATE INDEX refunds_due ON refunds (check_at) WHERE check_at IS NOT NULL;
-- Attempts at a gateway are asked about by settle_at whatever their status
-- (late checks of failed ones); this finds them.
CREATE INDEX txns_remote_due ON txns (settle_at) WHERE scenario = 'remote' AND settle_at IS NOT NULL;
