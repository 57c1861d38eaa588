-- Attempts the gateway settles later (sandbox card 4000 0000 0000 0119 after
-- AUTHORIZING, UPI collect): when, and to which status. A worker applies them.
ALTER TABLE txns ADD COLUMN settle_at INTEGER;
ALTER TABLE txns ADD COLUMN settle_status TEXT;
CREATE INDEX txns_due ON txns (settle_at) WHERE settle_at IS NOT NULL;
-- UPI is a sandbox method now: merchants that had every method get it too.
UPDATE merchants SET enabled_methods = 'card|nb|wallet|upi' WHERE enabled_methods = 'card|nb|wallet';
