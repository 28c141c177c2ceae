-- A reservation's payment (SPEC §13): the provider's payment id, where it
-- stands, what was paid and refunded, and when a failed refund is retried.
ALTER TABLE reservations
    ADD COLUMN payment_intent   TEXT,
    ADD COLUMN payment_status   TEXT NOT NULL DEFAULT 'none'
        CONSTRAINT reservations_payment_status CHECK (payment_status IN
            ('none', 'requires_payment', 'processing', 'succeeded', 'refund_pending', 'refunded', 'failed')),
    ADD COLUMN paid_amount      NUMERIC(12, 2) NOT NULL DEFAULT 0 CHECK (paid_amount >= 0),
    ADD COLUMN refunded_amount  NUMERIC(12, 2) NOT NULL DEFAULT 0 CHECK (refunded_amount >= 0 AND refunded_amount <= paid_amount),
    ADD COLUMN refund_attempts  INTEGER NOT NULL DEFAULT 0 CHECK (refund_attempts >= 0),
    ADD COLUMN next_refund_at   TIMESTAMPTZ;
-- One reservation per provider payment: a webhook finds its reservation by it.
CREATE UNIQUE INDEX reservations_payment_intent ON reservations (payment_intent) WHERE payment_intent IS NOT NULL;
-- The jobs' work: refunds due, and payments still waiting for the provider's word.
CREATE INDEX reservations_payment_pending ON reservations (payment_status)
    WHERE payment_status IN ('requires_payment', 'processing', 'refund_pending');

-- Each provider event (webhook) is applied once.
CREATE TABLE payment_events (
    provider     TEXT NOT NULL,
    event_id     TEXT NOT NULL,
    received_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (provider, event_id)
);
