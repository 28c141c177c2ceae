CREATE TABLE mail_outbox_previous (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL,
    cause            TEXT NOT NULL,
    recipient_id     INTEGER NOT NULL REFERENCES users (id),
    payload          TEXT NOT NULL CHECK (json_valid(payload)),
    status           TEXT NOT NULL DEFAULT 'pending'
                     CONSTRAINT mail_outbox_status CHECK (status IN ('pending', 'sent', 'dead')),
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER
) STRICT;
INSERT INTO mail_outbox_previous (id, kind, cause, recipient_id, payload, status, attempts, next_attempt_at, last_error, created_at, sent_at)
    SELECT id, kind, cause, recipient_id, payload, status, attempts, next_attempt_at, last_error, created_at, sent_at
    FROM mail_outbox WHERE recipient_id IS NOT NULL;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_previous RENAME TO mail_outbox;
CREATE UNIQUE INDEX mail_outbox_once ON mail_outbox (cause, recipient_id, kind);
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id) WHERE status = 'pending';
DROP TABLE studio_invitations;
DROP TABLE account_tokens;
ALTER TABLE users DROP COLUMN email_verified_at;
