-- The tickets module's tickets as the orders module knows them, fed by ticket events with the
-- version rule (apply only version = stored + 1).
CREATE TABLE tickets (
    id          TEXT    PRIMARY KEY,
    title       TEXT    NOT NULL,
    price_cents INTEGER NOT NULL,
    user_id     TEXT    NOT NULL,
    version     INTEGER NOT NULL,
    order_id    TEXT
) WITHOUT ROWID;

CREATE TABLE orders (
    n              INTEGER PRIMARY KEY AUTOINCREMENT,
    id             TEXT    NOT NULL UNIQUE,
    user_id        TEXT    NOT NULL,
    status         TEXT    NOT NULL
                   CHECK (status IN ('created', 'cancelled', 'awaiting:payment', 'complete')),
    expires_at     INTEGER NOT NULL,     -- unix milliseconds
    ticket_id      TEXT    NOT NULL REFERENCES tickets (id),
    ticket_title   TEXT    NOT NULL,     -- as the buyer saw it
    price_cents    INTEGER NOT NULL,     -- what payment charges
    ticket_version INTEGER NOT NULL,     -- the replica's version the order was placed against
    version        INTEGER NOT NULL DEFAULT 0,
    payment_id     TEXT,
    stripe_id      TEXT,
    refund_id      TEXT,
    created_at     INTEGER NOT NULL,
    updated_at     INTEGER NOT NULL
);
-- The rule that makes a stampede of buyers safe: at most one active order per ticket.
CREATE UNIQUE INDEX orders_one_active_per_ticket ON orders (ticket_id)
    WHERE status IN ('created', 'awaiting:payment', 'complete');
CREATE INDEX orders_by_user ON orders (user_id, n DESC);
