-- Merchant credential rotation with an overlap window (issue 18): the API
-- key before the last rotation (its SHA-256) keeps working until
-- api_key_previous_until; a new response key (sealed) signs from
-- response_key_next_at on; the webhook secret before the last rotation
-- (sealed) signs deliveries beside the new one until webhook_secret_previous_until.
ALTER TABLE merchants ADD COLUMN api_key_hash_previous TEXT;
ALTER TABLE merchants ADD COLUMN api_key_previous_until BIGINT;
ALTER TABLE merchants ADD COLUMN response_key_next TEXT;
ALTER TABLE merchants ADD COLUMN response_key_next_at BIGINT;
ALTER TABLE merchants ADD COLUMN webhook_secret_previous TEXT;
ALTER TABLE merchants ADD COLUMN webhook_secret_previous_until BIGINT;
CREATE INDEX merchants_api_key_previous ON merchants (api_key_hash_previous);
