-- Mandate checks (issue 15 review): a pre-debit notification covers one
-- debit (the order that used it; freed if that debit fails), and the
-- mandate worker finds paused mandates due to resume without a scan.
ALTER TABLE mandate_notifications ADD COLUMN used_by TEXT;
CREATE INDEX mandates_paused ON mandates (pause_end) WHERE status = 'PAUSED';
