-- An auction's slot has an end like an event: the session lasts this many
-- minutes from `scheduled_at` (the ticket, the calendar entry and the door's
-- check-in window need it). Existing auctions get the default hour.
ALTER TABLE auctions ADD COLUMN session_minutes BIGINT NOT NULL DEFAULT 60
    CONSTRAINT auctions_session_minutes CHECK (session_minutes BETWEEN 1 AND 1440);
