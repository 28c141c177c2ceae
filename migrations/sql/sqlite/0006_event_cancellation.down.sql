ALTER TABLE events DROP COLUMN cancelled_at;
