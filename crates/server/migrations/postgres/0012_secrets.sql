-- Secrets at rest (issue 18): the data keys that seal the database's
-- secrets, each sealed under the operator's master key (named by its id),
-- so rotating the master key reseals these rows alone.
CREATE TABLE data_keys (
    id         TEXT PRIMARY KEY,
    master_id  TEXT NOT NULL,
    wrapped    TEXT NOT NULL,
    created_at BIGINT NOT NULL
);
