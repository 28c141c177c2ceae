DROP INDEX refresh_tokens_expiry;
ALTER TABLE idempotency_keys DROP COLUMN lease_until;
