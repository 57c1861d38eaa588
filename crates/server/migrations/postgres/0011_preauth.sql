-- Pre-authorization (issue 19): an attempt of an order created with
-- `metadata.txns.auto_capture=false` ends AUTHORIZED (the amount held); the
-- merchant captures it, in full or in part, or voids it.
-- What the capture asked for (set when it starts) and, once the attempt is
-- CHARGED, what was captured; NULL: captured in full (an ordinary payment).
ALTER TABLE txns ADD COLUMN captured_minor BIGINT;
-- The capture's `idempotence_key` ('' when none was given): a repeat with the
-- same key and amount answers the same capture.
ALTER TABLE txns ADD COLUMN capture_key TEXT;
-- One success per order, holds included: at most one attempt of an order is
-- CHARGED or a hold (whatever became of it), as `complete` already ensures
-- under the order's lock; the database backs it.
CREATE UNIQUE INDEX txns_one_success ON txns (order_pk)
    WHERE status IN ('CHARGED', 'AUTHORIZED', 'CAPTURE_INITIATED', 'CAPTURE_FAILED', 'VOID_INITIATED', 'VOIDED', 'VOID_FAILED');
-- The settler's look for holds whose hold period ended.
CREATE INDEX txns_holds ON txns (updated_at) WHERE status = 'AUTHORIZED';
