DROP TABLE outbox_relay;
