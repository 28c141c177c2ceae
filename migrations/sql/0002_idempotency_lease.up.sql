-- An in-progress idempotency key is held only until its lease ends; a retry
-- after that runs the request again (NULL: claimed before leases existed).
ALTER TABLE idempotency_keys ADD COLUMN lease_until TIMESTAMPTZ;

-- The pruning job removes expired refresh tokens.
CREATE INDEX refresh_tokens_expiry ON refresh_tokens (expires_at);
