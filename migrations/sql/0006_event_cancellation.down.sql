ALTER TABLE events DROP CONSTRAINT events_cancelled_inactive;
ALTER TABLE events DROP COLUMN cancelled_at;
