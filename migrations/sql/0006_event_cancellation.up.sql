-- An event the studio cancelled (SPEC §12): when, and off sale for good.
ALTER TABLE events ADD COLUMN cancelled_at TIMESTAMPTZ;
ALTER TABLE events ADD CONSTRAINT events_cancelled_inactive CHECK (cancelled_at IS NULL OR NOT is_active);
