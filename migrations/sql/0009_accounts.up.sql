-- Proven mailboxes (SPEC §7, §14): when a user showed they read the mail
-- sent to their address (a verification link, a password reset, an invitation).
ALTER TABLE users ADD COLUMN email_verified_at TIMESTAMPTZ;

-- Single-use secrets emailed to a user: to verify the address, to reset the
-- password. Only a hash is kept (as for refresh tokens); the secret itself
-- travels in the message alone.
CREATE TABLE account_tokens (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    purpose     TEXT NOT NULL CONSTRAINT account_tokens_purpose CHECK (purpose IN ('verify_email', 'password_reset')),
    token_hash  TEXT NOT NULL UNIQUE,
    expires_at  TIMESTAMPTZ NOT NULL,
    used_at     TIMESTAMPTZ,
    created_at  TIMESTAMPTZ NOT NULL
);
CREATE INDEX account_tokens_user ON account_tokens (user_id, purpose);

-- Invitations to administer a studio, emailed to an address (whoever reads
-- that mailbox accepts, never whoever registered the address first).
CREATE TABLE studio_invitations (
    id           BIGSERIAL PRIMARY KEY,
    studio_id    BIGINT NOT NULL REFERENCES studios (id),
    -- Normalised (trimmed, lower-case).
    email        TEXT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    invited_by   BIGINT NOT NULL REFERENCES users (id),
    created_at   TIMESTAMPTZ NOT NULL,
    expires_at   TIMESTAMPTZ NOT NULL,
    accepted_at  TIMESTAMPTZ,
    accepted_by  BIGINT REFERENCES users (id),
    revoked_at   TIMESTAMPTZ,
    CONSTRAINT studio_invitations_settled_once CHECK (accepted_at IS NULL OR revoked_at IS NULL),
    CONSTRAINT studio_invitations_accepted_by CHECK ((accepted_at IS NULL) = (accepted_by IS NULL))
);
CREATE INDEX studio_invitations_pending ON studio_invitations (studio_id, id)
    WHERE accepted_at IS NULL AND revoked_at IS NULL;

-- Mail to an address that may have no account yet (an invitation): the
-- recipient is a user or an address with the language to write in. One
-- message per cause, recipient and kind either way.
ALTER TABLE mail_outbox ALTER COLUMN recipient_id DROP NOT NULL;
ALTER TABLE mail_outbox ADD COLUMN recipient_email TEXT;
ALTER TABLE mail_outbox ADD COLUMN recipient_locale TEXT CONSTRAINT mail_outbox_recipient_locale CHECK (recipient_locale IN ('tr', 'en'));
ALTER TABLE mail_outbox ADD CONSTRAINT mail_outbox_one_recipient
    CHECK ((recipient_id IS NULL) = (recipient_email IS NOT NULL AND recipient_locale IS NOT NULL));
CREATE UNIQUE INDEX mail_outbox_once_to_address ON mail_outbox (cause, recipient_email, kind) WHERE recipient_id IS NULL;
