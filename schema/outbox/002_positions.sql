-- Each durable subscriber's position in the event log (the last sequence number it processed or
-- parked), kept beside its effects and written in the same transaction as them. A power cut in
-- the `normal` mode can undo a module's last commits, but never the effects without the
-- position or the position without the effects: the events are then simply delivered again.
CREATE TABLE bus_positions (
    subscriber TEXT    PRIMARY KEY,
    position   INTEGER NOT NULL,
    updated_at INTEGER NOT NULL
) WITHOUT ROWID;
