-- Orders cancelled before payments heard of them: split mode delivers each subject on its own,
-- so an order:cancelled can arrive before its order:created (a consumer that stalls through a
-- NATS election, say). The cancellation is kept here rather than retried until it is parked, and
-- the late order:created stores the order as cancelled at this version: no payment is ever taken
-- for it. A row lives until its order:created arrives; none is pruned by age, because an
-- order:created re-queued from the dead letters weeks later must still find it.
CREATE TABLE early_cancellations (
    order_id     TEXT    PRIMARY KEY,
    version      INTEGER NOT NULL,
    cancelled_at INTEGER NOT NULL          -- unix milliseconds
) WITHOUT ROWID;
