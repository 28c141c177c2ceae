DELETE FROM mail_outbox WHERE recipient_id IS NULL;
DROP INDEX mail_outbox_once_to_address;
ALTER TABLE mail_outbox DROP CONSTRAINT mail_outbox_one_recipient;
ALTER TABLE mail_outbox DROP COLUMN recipient_locale;
ALTER TABLE mail_outbox DROP COLUMN recipient_email;
ALTER TABLE mail_outbox ALTER COLUMN recipient_id SET NOT NULL;
DROP TABLE studio_invitations;
DROP TABLE account_tokens;
ALTER TABLE users DROP COLUMN email_verified_at;
