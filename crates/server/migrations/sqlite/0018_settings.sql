-- Dashboard settings (issue 16): "Use signed response" (seed 000; off: the
-- return URL carries no signature) and the default return URL of orders
-- created without one.
ALTER TABLE merchants ADD COLUMN signed_response BIGINT NOT NULL DEFAULT 1;
ALTER TABLE merchants ADD COLUMN default_return_url TEXT;

-- API keys made in the dashboard: several per merchant, named, known by
-- their SHA-256 (and their first characters, to recognise them), revocable,
-- with when each was last used. The key `kassa merchant create` printed
-- stays in `merchants`.
CREATE TABLE api_keys (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    name TEXT NOT NULL,
    key_hash TEXT NOT NULL UNIQUE,
    prefix TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_used_at BIGINT,
    revoked_at BIGINT
);
CREATE INDEX api_keys_merchant ON api_keys (merchant_id, created_at);
