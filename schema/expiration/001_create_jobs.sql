-- Pending expirations: one row per reserved order, removed when it fires (in the transaction
-- that publishes expiration:complete) or when the order is cancelled first.
CREATE TABLE jobs (
    order_id   TEXT    PRIMARY KEY,
    expires_at INTEGER NOT NULL          -- unix milliseconds
) WITHOUT ROWID;
CREATE INDEX jobs_due ON jobs (expires_at);
