-- The same table as PostgreSQL's, so the schemas stay alike. SQLite has one
-- writer and announces each commit in-process as it happens: no relay runs,
-- and the row only follows the schema.
CREATE TABLE outbox_relay (
    one                INTEGER PRIMARY KEY DEFAULT 1 CHECK (one = 1),
    announced_through  INTEGER NOT NULL
) STRICT;
INSERT INTO outbox_relay (announced_through) SELECT COALESCE(MAX(id), 0) FROM outbox;
