-- A deleted account keeps its row (its bookings stay in the studio's
-- records) but nothing personal; see ../0012_account_deletion.up.sql.
ALTER TABLE users ADD COLUMN deleted_at INTEGER;
