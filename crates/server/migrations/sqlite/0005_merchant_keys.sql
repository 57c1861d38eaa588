-- Public keys that verify Process SDK orderDetails signatures (seed 001), named by merchantKeyId.
CREATE TABLE merchant_keys (
    merchant_id    TEXT NOT NULL REFERENCES merchants (id),
    key_id         TEXT NOT NULL,
    public_key_pem TEXT NOT NULL,
    created_at     INTEGER NOT NULL,
    PRIMARY KEY (merchant_id, key_id)
);
