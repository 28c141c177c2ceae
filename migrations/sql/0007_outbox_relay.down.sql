ALTER TABLE outbox ALTER COLUMN id SET DEFAULT nextval('outbox_id_seq');
DROP FUNCTION outbox_next_id();
DROP TABLE outbox_relay;
