-- Applied to every module's database: the bus's two tables that live beside a module's data.
-- outbox: events written in the same transaction as the state change they describe; the relay
-- moves them, in id order, into the event log and then deletes them.
CREATE TABLE outbox (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    event_id   TEXT    NOT NULL UNIQUE,
    subject    TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    created_at INTEGER NOT NULL          -- unix milliseconds
);

-- inbox: ids of the events each subscriber has processed, written in the handler's transaction,
-- so a redelivered event has no second effect.
CREATE TABLE inbox (
    subscriber   TEXT    NOT NULL,
    event_id     TEXT    NOT NULL,
    processed_at INTEGER NOT NULL,
    PRIMARY KEY (subscriber, event_id)
) WITHOUT ROWID;
