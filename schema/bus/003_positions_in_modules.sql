-- Subscribers' positions now live in their own databases (outbox/002_positions.sql); the
-- `position` column of `cursors` is what they were when that happened, read once to carry them
-- over. `cursors` remains the registry of durable names and their subjects.
-- A parked event is recorded once even if the process dies before the position moves past it.
DELETE FROM dead_letters WHERE id NOT IN (SELECT min(id) FROM dead_letters GROUP BY subscriber, seq);
CREATE UNIQUE INDEX dead_letters_once ON dead_letters (subscriber, seq);
