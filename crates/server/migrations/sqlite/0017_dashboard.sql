-- The merchant dashboard (issue 16): its users, their sessions, and the
-- indexes its order search walks.

-- A person who signs in to a merchant's dashboard. `email` is kept in lower
-- case and names one user across merchants; the password only as an
-- argon2id hash (PHC string).
CREATE TABLE dashboard_users (
    id TEXT PRIMARY KEY,
    merchant_id TEXT NOT NULL REFERENCES merchants (id),
    email TEXT NOT NULL UNIQUE,
    role TEXT NOT NULL,
    password_hash TEXT NOT NULL,
    created_at BIGINT NOT NULL
);

-- A signed-in browser: the SHA-256 of its cookie (never the cookie), its
-- CSRF token, and when it was made and last used (it expires when idle).
CREATE TABLE dashboard_sessions (
    token_hash TEXT PRIMARY KEY,
    user_id TEXT NOT NULL,
    csrf TEXT NOT NULL,
    created_at BIGINT NOT NULL,
    last_seen_at BIGINT NOT NULL
);
CREATE INDEX dashboard_sessions_user ON dashboard_sessions (user_id);

-- Newest first, page after page (keyset), and the search box's exact matches.
CREATE INDEX orders_by_merchant_created ON orders (merchant_id, created_at, id);
CREATE INDEX orders_by_merchant_status ON orders (merchant_id, status, created_at, id);
CREATE INDEX orders_by_customer ON orders (merchant_id, customer_id);
CREATE INDEX orders_by_email ON orders (merchant_id, customer_email);
CREATE INDEX orders_by_phone ON orders (merchant_id, customer_phone);

-- Every delivery attempt of a webhook event and how it ended, for the
-- order's page (a redelivery starts the event's count again; this keeps all).
CREATE TABLE webhook_attempts (
    id TEXT PRIMARY KEY,
    event_id TEXT NOT NULL,
    tried_at BIGINT NOT NULL,
    outcome TEXT NOT NULL
);
CREATE INDEX webhook_attempts_event ON webhook_attempts (event_id, tried_at);
