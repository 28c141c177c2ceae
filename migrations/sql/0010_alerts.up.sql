-- Price alerts (SPEC §14): a user asks to be told when an auction's price
-- reaches an amount. One per user and auction; a row is deleted when it
-- fires (in the transaction that records its frame and its email) or when
-- its auction ends.
CREATE TABLE price_alerts (
    id          BIGSERIAL PRIMARY KEY,
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    auction_id  BIGINT NOT NULL REFERENCES auctions (id) ON DELETE CASCADE,
    below       NUMERIC(12, 2) NOT NULL CHECK (below > 0),
    created_at  TIMESTAMPTZ NOT NULL,
    CONSTRAINT price_alerts_once UNIQUE (user_id, auction_id)
);
-- The job's work: the auctions someone waits on.
CREATE INDEX price_alerts_auction ON price_alerts (auction_id);

-- The kinds of email a user asked not to get (a one-click unsubscribe, or
-- their account page): reminders and price alerts.
CREATE TABLE mail_opt_outs (
    user_id     BIGINT NOT NULL REFERENCES users (id) ON DELETE CASCADE,
    kind        TEXT NOT NULL CONSTRAINT mail_opt_outs_kind CHECK (kind IN ('booking_reminder', 'price_alert')),
    created_at  TIMESTAMPTZ NOT NULL,
    PRIMARY KEY (user_id, kind)
);
