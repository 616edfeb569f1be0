-- An attempt whose answer was lost (a timeout, a 5xx on every try, an unreadable answer, a crash
-- while the provider was being asked) is 'unknown', never 'failed': the provider may have charged.
-- It keeps what it asked (amount and token), so that asking again with its idempotency key is
-- the same request and the provider replays its first answer. It is asked again on the buyer's
-- next try, at start-up and by the reconciler, at next_check_at.
CREATE TABLE payment_attempts_v2 (
    order_id        TEXT    NOT NULL,
    attempt         INTEGER NOT NULL,
    idempotency_key TEXT    NOT NULL UNIQUE,
    status          TEXT    NOT NULL
                    CHECK (status IN ('pending', 'unknown', 'succeeded', 'declined', 'failed')),
    message         TEXT,
    created_at      INTEGER NOT NULL,
    amount_cents    INTEGER NOT NULL DEFAULT 0,
    token           TEXT    NOT NULL DEFAULT '',
    checks          INTEGER NOT NULL DEFAULT 0,   -- how often the provider was asked again
    next_check_at   INTEGER,                      -- unknown: when the reconciler asks again
    resolved_at     INTEGER,
    PRIMARY KEY (order_id, attempt)
) WITHOUT ROWID;
-- Attempts left pending by an older version were in flight when it stopped: their outcome is
-- unknown. Their token was not kept; asking with an empty one gets an idempotency error from
-- Stripe, which keeps them unknown and listed by `ticketd payments` for a person to settle.
INSERT INTO payment_attempts_v2 (order_id, attempt, idempotency_key, status, message, created_at,
                                 amount_cents, next_check_at)
    SELECT a.order_id, a.attempt, a.idempotency_key,
           CASE a.status WHEN 'pending' THEN 'unknown' ELSE a.status END,
           a.message, a.created_at, coalesce(o.price_cents, 0),
           CASE a.status WHEN 'pending' THEN 0 END
    FROM payment_attempts a LEFT JOIN orders o ON o.id = a.order_id;
DROP TABLE payment_attempts;
ALTER TABLE payment_attempts_v2 RENAME TO payment_attempts;
-- One unresolved attempt per order: a second payment waits for the first one's outcome.
CREATE UNIQUE INDEX one_attempt_unresolved ON payment_attempts (order_id)
    WHERE status IN ('pending', 'unknown');
CREATE INDEX attempts_to_check ON payment_attempts (next_check_at) WHERE status = 'unknown';

-- A refund the provider refuses for good (already refunded, disputed, ...) is 'refused' and is
-- not asked again: `ticketd payments` lists it and `ticketd payments settle ID` records that a
-- person dealt with it ('settled').
CREATE TABLE payments_v2 (
    id            TEXT    PRIMARY KEY,
    order_id      TEXT    NOT NULL UNIQUE,
    stripe_id     TEXT    NOT NULL,
    amount_cents  INTEGER NOT NULL,
    currency      TEXT    NOT NULL,
    created_at    INTEGER NOT NULL,
    refund_status TEXT    NOT NULL DEFAULT 'none'
                  CHECK (refund_status IN ('none', 'pending', 'done', 'refused', 'settled')),
    refund_id     TEXT,
    refunded_at   INTEGER,
    refund_error  TEXT,
    refund_tries  INTEGER NOT NULL DEFAULT 0
) WITHOUT ROWID;
INSERT INTO payments_v2 (id, order_id, stripe_id, amount_cents, currency, created_at,
                         refund_status, refund_id, refunded_at)
    SELECT id, order_id, stripe_id, amount_cents, currency, created_at, refund_status, refund_id,
           refunded_at
    FROM payments;
DROP TABLE payments;
ALTER TABLE payments_v2 RENAME TO payments;
CREATE INDEX payments_refund_open ON payments (refund_status)
    WHERE refund_status IN ('pending', 'refused');
