-- HotHour's schema on SQLite: the same tables, indexes and invariants as the
-- PostgreSQL schema (../0001_schema.up.sql), in SQLite's terms.
--
-- * Money is INTEGER minor units (cents), never REAL or NUMERIC: sea-orm reads
--   SQLite decimals through f64, which would not keep amounts exact.
-- * Time is INTEGER microseconds since the Unix epoch (UTC): exact and orderable.
-- * Booleans are INTEGER 0/1, JSON is TEXT checked with json_valid().
-- * Tables are STRICT, so a value of the wrong type (say, a REAL price) is
--   refused instead of stored.
-- * Foreign keys are enforced because the adapter turns on
--   `PRAGMA foreign_keys` on every connection.
-- * Ids are AUTOINCREMENT, so they only grow and are never reused (the outbox
--   ids are the live streams' sequence numbers).

CREATE TABLE studios (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    name        TEXT NOT NULL CHECK (length(trim(name)) > 0),
    address     TEXT NOT NULL DEFAULT '',
    timezone    TEXT NOT NULL DEFAULT 'UTC',
    maps_url    TEXT,
    created_at  INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    updated_at  INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER))
) STRICT;

CREATE TABLE users (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    email          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    full_name      TEXT NOT NULL,
    phone          TEXT,
    role           TEXT NOT NULL DEFAULT 'user'
                   CHECK (role IN ('user', 'studio_admin', 'platform_admin')),
    studio_id      INTEGER REFERENCES studios (id),
    created_at     INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    updated_at     INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    CONSTRAINT users_studio_admin_has_studio CHECK ((role = 'studio_admin') = (studio_id IS NOT NULL))
) STRICT;
-- Emails are stored lower-cased by the application (Unicode-aware); SQLite's
-- lower() folds ASCII only, which is enough for that.
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE refresh_tokens (
    id           INTEGER PRIMARY KEY AUTOINCREMENT,
    user_id      INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id    INTEGER NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    expires_at   INTEGER NOT NULL,
    revoked_at   INTEGER,
    replaced_by  INTEGER REFERENCES refresh_tokens (id),
    created_at   INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER))
) STRICT;
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE auctions (
    id                            INTEGER PRIMARY KEY AUTOINCREMENT,
    studio_id                     INTEGER NOT NULL REFERENCES studios (id),
    title                         TEXT NOT NULL CHECK (length(trim(title)) > 0),
    description                   TEXT NOT NULL DEFAULT '',
    start_price                   INTEGER NOT NULL,  -- cents
    floor_price                   INTEGER NOT NULL,  -- cents
    drop_amount                   INTEGER NOT NULL,  -- cents
    drop_interval_seconds         INTEGER NOT NULL,
    starts_at                     INTEGER NOT NULL,
    ends_at                       INTEGER NOT NULL,
    scheduled_at                  INTEGER NOT NULL,
    turbo_trigger_before_seconds  INTEGER,
    turbo_drop_amount             INTEGER,           -- cents
    turbo_interval_seconds        INTEGER,
    turbo_started_at              INTEGER,
    turbo_announced               INTEGER NOT NULL DEFAULT 0 CHECK (turbo_announced IN (0, 1)),
    status                        TEXT NOT NULL
                                  CHECK (status IN ('DRAFT', 'ACTIVE', 'HELD', 'SOLD', 'EXPIRED', 'CANCELLED')),
    cancelled_at                  INTEGER,
    created_at                    INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    updated_at                    INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    CONSTRAINT auctions_prices CHECK (floor_price > 0 AND floor_price < start_price),
    CONSTRAINT auctions_price_limit CHECK (start_price <= 999999999999),
    CONSTRAINT auctions_drop CHECK (drop_amount > 0 AND drop_amount <= start_price - floor_price),
    CONSTRAINT auctions_drop_interval CHECK (drop_interval_seconds >= 60),
    CONSTRAINT auctions_times CHECK (starts_at < ends_at AND ends_at <= scheduled_at),
    CONSTRAINT auctions_turbo_complete CHECK (
        (turbo_trigger_before_seconds IS NULL) = (turbo_drop_amount IS NULL)
        AND (turbo_drop_amount IS NULL) = (turbo_interval_seconds IS NULL)),
    CONSTRAINT auctions_turbo_values CHECK (
        turbo_drop_amount IS NULL
        OR (turbo_drop_amount > 0 AND turbo_drop_amount < drop_amount
            AND turbo_interval_seconds >= 60 AND turbo_interval_seconds < drop_interval_seconds
            AND turbo_trigger_before_seconds > 0))
) STRICT;
CREATE INDEX auctions_catalogue ON auctions (starts_at, id);
CREATE INDEX auctions_studio ON auctions (studio_id, starts_at, id);
CREATE INDEX auctions_open ON auctions (ends_at) WHERE status IN ('DRAFT', 'ACTIVE', 'HELD');

CREATE TABLE events (
    id               INTEGER PRIMARY KEY AUTOINCREMENT,
    studio_id        INTEGER NOT NULL REFERENCES studios (id),
    title            TEXT NOT NULL CHECK (length(trim(title)) > 0),
    description      TEXT NOT NULL DEFAULT '',
    capacity         INTEGER NOT NULL CHECK (capacity >= 0),
    price            INTEGER NOT NULL CHECK (price >= 0 AND price <= 999999999999),  -- cents
    starts_at        INTEGER NOT NULL,
    ends_at          INTEGER NOT NULL,
    is_active        INTEGER NOT NULL DEFAULT 1 CHECK (is_active IN (0, 1)),
    -- Seats per stored reservation status, kept in step under the write lock.
    held_seats       INTEGER NOT NULL DEFAULT 0 CHECK (held_seats >= 0),
    held_count       INTEGER NOT NULL DEFAULT 0 CHECK (held_count >= 0),
    confirmed_seats  INTEGER NOT NULL DEFAULT 0 CHECK (confirmed_seats >= 0),
    confirmed_count  INTEGER NOT NULL DEFAULT 0 CHECK (confirmed_count >= 0),
    deleted_at       INTEGER,
    created_at       INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    updated_at       INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    CONSTRAINT events_not_oversold CHECK (held_seats + confirmed_seats <= capacity),
    CONSTRAINT events_times CHECK (starts_at < ends_at)
) STRICT;
CREATE INDEX events_catalogue ON events (starts_at, id) WHERE deleted_at IS NULL;
CREATE INDEX events_studio ON events (studio_id, starts_at, id) WHERE deleted_at IS NULL;

CREATE TABLE reservations (
    id             INTEGER PRIMARY KEY AUTOINCREMENT,
    kind           TEXT NOT NULL CHECK (kind IN ('auction', 'event')),
    auction_id     INTEGER REFERENCES auctions (id),
    event_id       INTEGER REFERENCES events (id),
    user_id        INTEGER NOT NULL REFERENCES users (id),
    studio_id      INTEGER NOT NULL REFERENCES studios (id),
    status         TEXT NOT NULL
                   CHECK (status IN ('HOLD', 'CONFIRMED', 'CHECKED_IN', 'NO_SHOW', 'EXPIRED', 'CANCELLED')),
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    unit_price     INTEGER NOT NULL CHECK (unit_price >= 0 AND unit_price <= 999999999999),    -- cents
    total_price    INTEGER NOT NULL CHECK (total_price >= 0 AND total_price <= 999999999999),  -- cents
    expires_at     INTEGER NOT NULL,
    booking_code   TEXT UNIQUE,
    created_at     INTEGER NOT NULL,
    confirmed_at   INTEGER,
    checked_in_at  INTEGER,
    cancelled_at   INTEGER,
    updated_at     INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    CONSTRAINT reservations_target CHECK (
        (kind = 'auction' AND auction_id IS NOT NULL AND event_id IS NULL AND quantity = 1)
        OR (kind = 'event' AND event_id IS NOT NULL AND auction_id IS NULL)),
    CONSTRAINT reservations_booked_have_code CHECK (
        status NOT IN ('CONFIRMED', 'CHECKED_IN', 'NO_SHOW') OR booking_code IS NOT NULL)
) STRICT;
-- One live reservation per auction: exactly one grab wins, whatever the code does.
-- (SQLite names the columns, `reservations.auction_id`, when this is violated.)
CREATE UNIQUE INDEX reservations_one_live_per_auction ON reservations (auction_id)
    WHERE status IN ('HOLD', 'CONFIRMED', 'CHECKED_IN', 'NO_SHOW');
-- One live hold per user per event (lapsed holds are expired under the write lock first).
-- (Violations name `reservations.event_id, reservations.user_id`.)
CREATE UNIQUE INDEX reservations_one_hold_per_user_event ON reservations (event_id, user_id)
    WHERE status = 'HOLD';
CREATE INDEX reservations_lapsing ON reservations (expires_at) WHERE status = 'HOLD';
CREATE INDEX reservations_event_holds ON reservations (event_id, expires_at) WHERE status = 'HOLD';
CREATE INDEX reservations_auction_users ON reservations (auction_id, user_id) WHERE auction_id IS NOT NULL;
CREATE INDEX reservations_user ON reservations (user_id, id DESC);
CREATE INDEX reservations_studio ON reservations (studio_id, id DESC);

-- Domain events, written in the same transaction as the change they announce.
CREATE TABLE outbox (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    room        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payload     TEXT NOT NULL CHECK (json_valid(payload)),
    created_at  INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER))
) STRICT;
CREATE INDEX outbox_room ON outbox (room, id);
CREATE INDEX outbox_created ON outbox (created_at);

CREATE TABLE idempotency_keys (
    user_id          INTEGER NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    "key"            TEXT NOT NULL CHECK (length("key") BETWEEN 1 AND 255),
    method           TEXT NOT NULL,
    path             TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    response_status  INTEGER,
    response_body    BLOB,
    created_at       INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER)),
    expires_at       INTEGER NOT NULL,
    PRIMARY KEY (user_id, "key")
) STRICT;
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

CREATE TABLE audit_log (
    id          INTEGER PRIMARY KEY AUTOINCREMENT,
    actor_id    INTEGER REFERENCES users (id),
    studio_id   INTEGER REFERENCES studios (id),
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    details     TEXT NOT NULL DEFAULT '{}' CHECK (json_valid(details)),
    created_at  INTEGER NOT NULL DEFAULT (CAST(unixepoch('subsec') * 1000000 AS INTEGER))
) STRICT;
CREATE INDEX audit_log_studio ON audit_log (studio_id, id DESC);
