-- Attempts started from the iframe payment page end on Kassa's result page,
-- which hands the result to the host page through the bridge (docs/bridge.md).
ALTER TABLE txns ADD COLUMN in_frame BIGINT NOT NULL DEFAULT 0;
