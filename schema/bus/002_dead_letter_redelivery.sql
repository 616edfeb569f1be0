-- `ticketd dead-letters retry ID` sets requeued_at; the bus then delivers the event to its
-- subscriber again and records when that succeeded.
ALTER TABLE dead_letters ADD COLUMN redelivered_at INTEGER;
CREATE INDEX dead_letters_requeued ON dead_letters (subscriber) WHERE requeued_at IS NOT NULL AND redelivered_at IS NULL;
