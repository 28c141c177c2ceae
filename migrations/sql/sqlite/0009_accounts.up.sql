-- Proven mailboxes (SPEC §7, §14): when a user showed they read the mail
-- sent to their address (a verification link, a password reset, an invitation).
ALTER TABLE users ADD COLUMN email_verified_at INTEGER;

-- Single-use secrets emailed to a user: to verify the address, to reset the
-- password. Only a hash is kept (as for refresh tokens); the secret itself
-- travels in the message alone. Instants are microseconds since the epoch.
CREATE TABLE account_tokens (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id     INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CONSTRAINT account_tokens_purpose CHECK (purpose IN ('verify_email', 'password_reset')),
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  INTEGER NOT NULL,
    used_at     INTEGER,
    created_at  INTEGER NOT NULL
) STRICT;
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

-- Invitations to administer a studio, emailed to an address (whoever reads
-- that mailbox accepts, never whoever registered the address first).
CREATE TABLE studio_invitations (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    studio_id    INTEGER NOT NULL REFERENCES studios (id),
    -- Normalised (trimmed, lower-case).
    email        TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    invited_by   INTEGER NOT NULL REFERENCES users (id),
    created_at   INTEGER NOT NULL,
    expires_at   INTEGER NOT NULL,
    accepted_at  INTEGER,
    accepted_by  INTEGER REFERENCES users (id),
    revoked_at   INTEGER,
    CONSTRAINT studio_invitations_settled_once CHECK (accepted_at IS NULL OR revoked_at IS NULL),
    CONSTRAINT studio_invitations_accepted_by CHECK ((accepted_at IS NULL) = (accepted_by IS NULL))
) STRICT;
CREATE INDEX studio_invitations_pending ON studio_invitations (studio_id, id)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- Mail to an address that may have no account yet (an invitation): the
-- recipient is a user or an address with the language to write in. One
-- message per cause, recipient and kind either way. SQLite cannot drop a
-- NOT NULL, so the table is made again.
CREATE TABLE mail_outbox_next (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    kind             TEXT NOT NULL,
    cause            TEXT NOT NULL,
    recipient_id     INTEGER REFERENCES users (id),
    recipient_email  TEXT,
    recipient_locale TEXT CONSTRAINT mail_outbox_recipient_locale CHECK (recipient_locale IN ('tr', 'en')),
    payload          TEXT NOT NULL CHECK (json_valid(payload)),
    status           TEXT NOT NULL DEFAULT 'pending'
                     CONSTRAINT mail_outbox_status CHECK (status IN ('pending', 'sent', 'dead')),
    -- Claims so far; a claim counts a try even if its sender dies.
    attempts         INTEGER NOT NULL DEFAULT 0 CHECK (attempts >= 0),
    -- When a pending message is due: at once, after a back-off, or when a claim's lease lapses.
    next_attempt_at  INTEGER NOT NULL,
    last_error       TEXT,
    created_at       INTEGER NOT NULL,
    sent_at          INTEGER,
    CONSTRAINT mail_outbox_one_recipient
        CHECK ((recipient_id IS NULL) = (recipient_email IS NOT NULL AND recipient_locale IS NOT NULL))
) STRICT;
INSERT INTO mail_outbox_next (id, kind, cause, recipient_id, payload, status, attempts, next_attempt_at, last_error, created_at, sent_at)
    SELECT id, kind, cause, recipient_id, payload, status, attempts, next_attempt_at, last_error, created_at, sent_at FROM mail_outbox;
DROP TABLE mail_outbox;
ALTER TABLE mail_outbox_next RENAME TO mail_outbox;
CREATE UNIQUE INDEX mail_outbox_once ON mail_outbox (cause, recipient_id, kind);
CREATE UNIQUE INDEX mail_outbox_once_to_address ON mail_outbox (cause, recipient_email, kind) WHERE recipient_id IS NULL;
CREATE INDEX mail_outbox_due ON mail_outbox (next_attempt_at, id) WHERE status = 'pending';
