-- Events' waiting lists (SPEC §14): who waits for how many seats, in order
-- of joining (the id). An entry ends when its user leaves or is offered a
-- hold of returned seats (the hold it became is kept). Instants are
-- microseconds since the epoch.
CREATE TABLE waitlist_entries (
    id              INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id        INTEGER NOT NULL REFERENCES events (id),
    user_id         INTEGER NOT NULL REFERENCES users (id),
    quantity        INTEGER NOT NULL CHECK (quantity > 0),
    status          TEXT NOT NULL DEFAULT 'WAITING'
                    CONSTRAINT waitlist_entries_status CHECK (status IN ('WAITING', 'OFFERED', 'LEFT')),
    joined_at       INTEGER NOT NULL,
    reservation_id  INTEGER REFERENCES reservations (id),
    ended_at        INTEGER,
    CONSTRAINT waitlist_entries_offer CHECK ((status = 'OFFERED') = (reservation_id IS NOT NULL)),
    CONSTRAINT waitlist_entries_ended CHECK ((status = 'WAITING') = (ended_at IS NULL))
) STRICT;
-- One place in line per user per event.
CREATE UNIQUE INDEX waitlist_entries_one_per_user ON waitlist_entries (event_id, user_id) WHERE status = 'WAITING';
-- The line itself, read under the event's lock when seats return.
CREATE INDEX waitlist_entries_line ON waitlist_entries (event_id, id) WHERE status = 'WAITING';
-- Each hold is offered to one waiter.
CREATE UNIQUE INDEX waitlist_entries_reservation ON waitlist_entries (reservation_id) WHERE reservation_id IS NOT NULL;
