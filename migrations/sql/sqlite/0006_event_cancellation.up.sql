-- An event the studio cancelled (SPEC §12): when (microseconds since the
-- epoch), and off sale for good.
ALTER TABLE events ADD COLUMN cancelled_at INTEGER
    CONSTRAINT events_cancelled_inactive CHECK (cancelled_at IS NULL OR is_active = 0);
