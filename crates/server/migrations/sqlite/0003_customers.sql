-- Customer objects (seed 003): the merchant names them with object_reference_id.
CREATE TABLE customers (
    id                  TEXT PRIMARY KEY,    -- cst_<32 hex>
    merchant_id         TEXT NOT NULL REFERENCES merchants (id),
    object_reference_id TEXT NOT NULL,
    mobile_number       TEXT,
    mobile_country_code TEXT,
    email_address       TEXT,
    first_name          TEXT,
    last_name           TEXT,
    created_at          INTEGER NOT NULL,
    updated_at          INTEGER NOT NULL,
    UNIQUE (merchant_id, object_reference_id)
);
