-- A sale, recorded when the ticket's order completes (order:completed): who bought it and when.
-- The ticket stays held by that order, so it is never listed again. (Passing `user_id` to the
-- buyer, face value and resale are the marketplace's: see API.md.)
ALTER TABLE tickets ADD COLUMN sold_to TEXT;
ALTER TABLE tickets ADD COLUMN sold_at INTEGER;  -- unix milliseconds
