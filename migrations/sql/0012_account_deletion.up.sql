-- A deleted account (SPEC §7, DELETE /me) keeps its row, so that its
-- bookings stay in the studio's records, but nothing personal: its email
-- becomes a non-routable tombstone (freeing the address), its name, phone
-- and password are erased. `deleted_at` tells the rest of the service it is gone.
ALTER TABLE users ADD COLUMN deleted_at TIMESTAMPTZ;
