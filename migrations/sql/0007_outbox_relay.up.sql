-- The outbox relay (crates/infra-postgres/src/relay.rs): one instance at a
-- time announces committed outbox rows in id order, outside any business
-- transaction, and keeps here how far it has announced.
CREATE TABLE outbox_relay (
    one                BOOLEAN PRIMARY KEY DEFAULT TRUE CHECK (one),
    announced_through  BIGINT NOT NULL
);
-- What is in the outbox now was announced by the writes that stored it.
INSERT INTO outbox_relay (announced_through) SELECT COALESCE(MAX(id), 0) FROM outbox;

-- An outbox id is taken only by a transaction that already has its own
-- transaction id. The relay relies on it to tell a missing id that may still
-- commit from one that never will: once every transaction id assigned before
-- the gap was seen has ended, nothing can fill it.
CREATE FUNCTION outbox_next_id() RETURNS BIGINT LANGUAGE plpgsql VOLATILE AS $$
BEGIN
    PERFORM pg_current_xact_id();
    RETURN nextval('outbox_id_seq');
END
$$;
ALTER TABLE outbox ALTER COLUMN id SET DEFAULT outbox_next_id();
