-- Merchant appearance (theme JSON: accent, radius, logo, appearance) and the
-- exact origins allowed to frame the iframe payment link (space-separated).
ALTER TABLE merchants ADD COLUMN theme TEXT NOT NULL DEFAULT '{}';
ALTER TABLE merchants ADD COLUMN allowed_origins TEXT NOT NULL DEFAULT '';
