-- The append-only event log. seq is the global order; event_id makes appends idempotent.
CREATE TABLE events (
    seq        INTEGER PRIMARY KEY,
    event_id   TEXT    NOT NULL UNIQUE,
    subject    TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    source     TEXT    NOT NULL,         -- the publishing module's database
    created_at INTEGER NOT NULL,         -- unix ms, when the outbox row was written
    logged_at  INTEGER NOT NULL          -- unix ms, when the relay appended it
);
CREATE INDEX events_by_subject ON events (subject, seq);

-- One row per durable subscriber: the last sequence number it has processed (or parked).
CREATE TABLE cursors (
    subscriber TEXT    PRIMARY KEY,
    subject    TEXT    NOT NULL,
    position   INTEGER NOT NULL DEFAULT 0,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;

-- Events a subscriber gave up on after too many failed tries.
CREATE TABLE dead_letters (
    id         INTEGER PRIMARY KEY AUTOINCREMENT,
    subscriber TEXT    NOT NULL,
    seq        INTEGER NOT NULL,
    event_id   TEXT    NOT NULL,
    subject    TEXT    NOT NULL,
    payload    TEXT    NOT NULL,
    error      TEXT    NOT NULL,
    attempts   INTEGER NOT NULL,
    parked_at  INTEGER NOT NULL,
    requeued_at INTEGER
);
