DROP TABLE payment_events;
DROP INDEX reservations_payment_pending;
DROP INDEX reservations_payment_intent;
ALTER TABLE reservations DROP COLUMN next_refund_at;
ALTER TABLE reservations DROP COLUMN refund_attempts;
ALTER TABLE reservations DROP COLUMN refunded_amount;
ALTER TABLE reservations DROP COLUMN paid_amount;
ALTER TABLE reservations DROP COLUMN payment_status;
ALTER TABLE reservations DROP COLUMN payment_intent;
