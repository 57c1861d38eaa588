-- The audit log (SPEC §10): every change to money, keys and settings, by
-- whom (an API key by its fingerprint, the CLI, never a secret), from where.
CREATE TABLE audit_events (
    id TEXT PRIMARY KEY,
    merchant_id TEXT,
    actor TEXT NOT NULL,
    action TEXT NOT NULL,
    target TEXT,
    detail TEXT,
    address TEXT,
    request_id TEXT,
    created_at BIGINT NOT NULL
);
CREATE INDEX audit_events_merchant ON audit_events (merchant_id, created_at);
