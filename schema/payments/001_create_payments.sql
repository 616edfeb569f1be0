-- The orders module's orders as payments knows them, fed by order events (version rule).
CREATE TABLE orders (
    id          TEXT    PRIMARY KEY,
    user_id     TEXT    NOT NULL,
    status      TEXT    NOT NULL,
    price_cents INTEGER NOT NULL,
    version     INTEGER NOT NULL
) WITHOUT ROWID;

-- Every attempt to charge, recorded before the provider is called. Its idempotency key
-- (order id + attempt number) is reused for retries of that attempt after a timeout or a 5xx.
CREATE TABLE payment_attempts (
    order_id        TEXT    NOT NULL,
    attempt         INTEGER NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    status          TEXT    NOT NULL CHECK (status IN ('pending', 'succeeded', 'declined', 'failed')),
    message         TEXT,
    created_at      INTEGER NOT NULL,
    PRIMARY KEY (order_id, attempt)
) WITHOUT ROWID;
-- One attempt in flight per order: a second concurrent payment is refused, not charged.
CREATE UNIQUE INDEX one_attempt_in_flight ON payment_attempts (order_id) WHERE status = 'pending';

-- Charges that succeeded. An order is paid at most once.
CREATE TABLE payments (
    id            TEXT    PRIMARY KEY,
    order_id      TEXT    NOT NULL UNIQUE,
    stripe_id     TEXT    NOT NULL,
    amount_cents  INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    refund_status TEXT    NOT NULL DEFAULT 'none' CHECK (refund_status IN ('none', 'pending', 'done')),
    refund_id     TEXT,
    refunded_at   INTEGER
) WITHOUT ROWID;
CREATE INDEX payments_refund_pending ON payments (refund_status) WHERE refund_status = 'pending';
