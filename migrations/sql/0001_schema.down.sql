DROP TABLE IF EXISTS audit_log, idempotency_keys, outbox, reservations, events, auctions,
    refresh_tokens, users, studios;
