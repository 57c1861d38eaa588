-- Dashboard settings (issue 16): "Use signed response" (seed 000; off: the
-- return URL carries no signature) and the default return URL of orders
-- created without one.
ALTER TABLE merchants ADD COLUMN signed_response BIGINT NOT NULL DEFAULT 1;
ALTER TABLE merchants ADD COLUMN default_return_url TEXT;
