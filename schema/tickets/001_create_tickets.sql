-- Tickets for sale. `n` is the creation order (the listing shows newest first); `version` goes up
-- by one on every change and travels in every ticket event.
CREATE TABLE tickets (
    n           INTEGER PRIMARY KEY AUTOINCREMENT,
    id          TEXT    NOT NULL UNIQUE,
    title       TEXT    NOT NULL,
    price_cents INTEGER NOT NULL CHECK (price_cents > 0),
    user_id     TEXT    NOT NULL,
    version     INTEGER NOT NULL DEFAULT 0,
    order_id    TEXT,                    -- the order holding it, while reserved or sold
    created_at  INTEGER NOT NULL,
    updated_at  INTEGER NOT NULL
);
-- The listing: tickets that are not reserved, newest first.
CREATE INDEX tickets_available ON tickets (n DESC) WHERE order_id IS NULL;

-- Orders known to be cancelled. order:created and order:cancelled travel on separate
-- subscriptions, so a cancellation can be seen before its creation; this keeps the late creation
-- from reserving the ticket again.
CREATE TABLE released_orders (
    order_id TEXT PRIMARY KEY
) WITHOUT ROWID;
