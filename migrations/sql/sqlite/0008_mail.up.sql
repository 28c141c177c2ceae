-- The language each user is written to in (SPEC §14).
ALTER TABLE users ADD COLUMN locale TEXT NOT NULL DEFAULT 'en' CONSTRAINT users_locale CHECK (locale IN ('tr', 'en'));

-- The mail outbox: each message recorded in the transaction of the decision
-- that causes it, then sent by the sender. A message is one of a kind per
-- cause and recipient: recording it again changes nothing. Instants are
-- microseconds since the epoch.
CREATE TABLE mail_outbox (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL,
    cause            TEXT NOT NULL,
    recipient_id     INTEGER NOT NULL REFERENCES users (id),
    payload          TEXT NOT NULL CHECK (json_valid(payload)),
    status           TEXT NOT NULL DEFAULT 'pending'
                     CONSTRAINT mail_outbox_status CHECK (status IN ('pending', 'sent', 'dead')),
    -- Claims so far; a claim counts a try even if its sender dies.
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- When a pending message is due: at once, after a back-off, or when a claim's lease lapses.
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
) STRICT;
CREATE UNIQUE INDEX mail_outbox_once ON mail_outbox (cause, recipient_id, kind);
-- The senders' work: pending messages by when they are due.
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id) WHERE status = 'pending';
