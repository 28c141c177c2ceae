-- HotHour's schema. Constraints keep the invariants even if application code is wrong.

CREATE TABLE studios (
    id          BIGSERIAL PRIMARY KEY,
    name        TEXT NOT NULL CHECK (length(btrim(name)) > 0),
    address     TEXT NOT NULL DEFAULT '',
    timezone    TEXT NOT NULL DEFAULT 'UTC',
    maps_url    TEXT,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);

CREATE TABLE users (
    id             BIGSERIAL PRIMARY KEY,
    email          TEXT NOT NULL,
    password_hash  TEXT NOT NULL,
    full_name      TEXT NOT NULL,
    phone          TEXT,
    role           TEXT NOT NULL DEFAULT 'user'
                   CHECK (role IN ('user', 'studio_admin', 'platform_admin')),
    studio_id      BIGINT REFERENCES studios (id),
    created_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT users_studio_admin_has_studio CHECK ((role = 'studio_admin') = (studio_id IS NOT NULL))
);
CREATE UNIQUE INDEX users_email_key ON users (lower(email));

CREATE TABLE refresh_tokens (
    id           BIGSERIAL PRIMARY KEY,
    user_id      BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    family_id    BIGINT NOT NULL,
    token_hash   TEXT NOT NULL UNIQUE,
    expires_at   TIMESTAMPTZ NOT NULL,
    revoked_at   TIMESTAMPTZ,
    replaced_by  BIGINT REFERENCES refresh_tokens (id),
    created_at   TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX refresh_tokens_user ON refresh_tokens (user_id);
CREATE INDEX refresh_tokens_family ON refresh_tokens (family_id);

CREATE TABLE auctions (
    id                            BIGSERIAL PRIMARY KEY,
    studio_id                     BIGINT NOT NULL REFERENCES studios (id),
    title                         TEXT NOT NULL CHECK (length(btrim(title)) > 0),
    description                   TEXT NOT NULL DEFAULT '',
    start_price                   NUMERIC(12, 2) NOT NULL,
    floor_price                   NUMERIC(12, 2) NOT NULL,
    drop_amount                   NUMERIC(12, 2) NOT NULL,
    drop_interval_seconds         BIGINT NOT NULL,
    starts_at                     TIMESTAMPTZ NOT NULL,
    ends_at                       TIMESTAMPTZ NOT NULL,
    scheduled_at                  TIMESTAMPTZ NOT NULL,
    turbo_trigger_before_seconds  BIGINT,
    turbo_drop_amount             NUMERIC(12, 2),
    turbo_interval_seconds        BIGINT,
    turbo_started_at              TIMESTAMPTZ,
    turbo_announced               BOOLEAN NOT NULL DEFAULT FALSE,
    status                        TEXT NOT NULL
                                  CHECK (status IN ('DRAFT', 'ACTIVE', 'HELD', 'SOLD', 'EXPIRED', 'CANCELLED')),
    cancelled_at                  TIMESTAMPTZ,
    created_at                    TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at                    TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT auctions_prices CHECK (floor_price > 0 AND floor_price < start_price),
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
);
CREATE INDEX auctions_catalogue ON auctions (starts_at, id);
CREATE INDEX auctions_studio ON auctions (studio_id, starts_at, id);
CREATE INDEX auctions_open ON auctions (ends_at) WHERE status IN ('DRAFT', 'ACTIVE', 'HELD');

CREATE TABLE events (
    id               BIGSERIAL PRIMARY KEY,
    studio_id        BIGINT NOT NULL REFERENCES studios (id),
    title            TEXT NOT NULL CHECK (length(btrim(title)) > 0),
    description      TEXT NOT NULL DEFAULT '',
    capacity         INTEGER NOT NULL CHECK (capacity >= 0),
    price            NUMERIC(12, 2) NOT NULL CHECK (price >= 0),
    starts_at        TIMESTAMPTZ NOT NULL,
    ends_at          TIMESTAMPTZ NOT NULL,
    is_active        BOOLEAN NOT NULL DEFAULT TRUE,
    -- Seats per stored reservation status, kept in step under the event's row lock.
    held_seats       INTEGER NOT NULL DEFAULT 0 CHECK (held_seats >= 0),
    held_count       INTEGER NOT NULL DEFAULT 0 CHECK (held_count >= 0),
    confirmed_seats  INTEGER NOT NULL DEFAULT 0 CHECK (confirmed_seats >= 0),
    confirmed_count  INTEGER NOT NULL DEFAULT 0 CHECK (confirmed_count >= 0),
    deleted_at       TIMESTAMPTZ,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    updated_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT events_not_oversold CHECK (held_seats + confirmed_seats <= capacity),
    CONSTRAINT events_times CHECK (starts_at < ends_at)
);
CREATE INDEX events_catalogue ON events (starts_at, id) WHERE deleted_at IS NULL;
CREATE INDEX events_studio ON events (studio_id, starts_at, id) WHERE deleted_at IS NULL;

CREATE TABLE reservations (
    id             BIGSERIAL PRIMARY KEY,
    kind           TEXT NOT NULL CHECK (kind IN ('auction', 'event')),
    auction_id     BIGINT REFERENCES auctions (id),
    event_id       BIGINT REFERENCES events (id),
    user_id        BIGINT NOT NULL REFERENCES users (id),
    studio_id      BIGINT NOT NULL REFERENCES studios (id),
    status         TEXT NOT NULL
                   CHECK (status IN ('HOLD', 'CONFIRMED', 'CHECKED_IN', 'NO_SHOW', 'EXPIRED', 'CANCELLED')),
    quantity       INTEGER NOT NULL CHECK (quantity > 0),
    unit_price     NUMERIC(12, 2) NOT NULL CHECK (unit_price >= 0),
    total_price    NUMERIC(12, 2) NOT NULL CHECK (total_price >= 0),
    expires_at     TIMESTAMPTZ NOT NULL,
    booking_code   TEXT UNIQUE,
    created_at     TIMESTAMPTZ NOT NULL,
    confirmed_at   TIMESTAMPTZ,
    checked_in_at  TIMESTAMPTZ,
    cancelled_at   TIMESTAMPTZ,
    updated_at     TIMESTAMPTZ NOT NULL DEFAULT now(),
    CONSTRAINT reservations_target CHECK (
        (kind = 'auction' AND auction_id IS NOT NULL AND event_id IS NULL AND quantity = 1)
        OR (kind = 'event' AND event_id IS NOT NULL AND auction_id IS NULL)),
    CONSTRAINT reservations_booked_have_code CHECK (
        status NOT IN ('CONFIRMED', 'CHECKED_IN', 'NO_SHOW') OR booking_code IS NOT NULL)
);
-- One live reservation per auction: exactly one grab wins, whatever the code does.
CREATE UNIQUE INDEX reservations_one_live_per_auction ON reservations (auction_id)
    WHERE status IN ('HOLD', 'CONFIRMED', 'CHECKED_IN', 'NO_SHOW');
-- One live hold per user per event (lapsed holds are expired under the event lock first).
CREATE UNIQUE INDEX reservations_one_hold_per_user_event ON reservations (event_id, user_id)
    WHERE status = 'HOLD';
CREATE INDEX reservations_lapsing ON reservations (expires_at) WHERE status = 'HOLD';
CREATE INDEX reservations_event_holds ON reservations (event_id, expires_at) WHERE status = 'HOLD';
CREATE INDEX reservations_auction_users ON reservations (auction_id, user_id) WHERE auction_id IS NOT NULL;
CREATE INDEX reservations_user ON reservations (user_id, id DESC);
CREATE INDEX reservations_studio ON reservations (studio_id, id DESC);

-- Domain events, written in the same transaction as the change they announce.
CREATE TABLE outbox (
    id          BIGSERIAL PRIMARY KEY,
    room        TEXT NOT NULL,
    kind        TEXT NOT NULL,
    payload     JSONB NOT NULL,
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX outbox_room ON outbox (room, id);
CREATE INDEX outbox_created ON outbox (created_at);

CREATE TABLE idempotency_keys (
    user_id          BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    key              TEXT NOT NULL CHECK (length(key) BETWEEN 1 AND 255),
    method           TEXT NOT NULL,
    path             TEXT NOT NULL,
    request_hash     TEXT NOT NULL,
    response_status  INTEGER,
    response_body    BYTEA,
    created_at       TIMESTAMPTZ NOT NULL DEFAULT now(),
    expires_at       TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, key)
);
CREATE INDEX idempotency_keys_expiry ON idempotency_keys (expires_at);

CREATE TABLE audit_log (
    id          BIGSERIAL PRIMARY KEY,
    actor_id    BIGINT REFERENCES users (id),
    studio_id   BIGINT REFERENCES studios (id),
    action      TEXT NOT NULL,
    target      TEXT NOT NULL,
    details     JSONB NOT NULL DEFAULT '{}',
    created_at  TIMESTAMPTZ NOT NULL DEFAULT now()
);
CREATE INDEX audit_log_studio ON audit_log (studio_id, id DESC);
