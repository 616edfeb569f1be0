-- Resale and waiting lists (API.md, "Marketplace").
--
-- A completed order holds its ticket until the ticket's owner relists it: orders learns that from
-- the ticket:updated that takes the ticket off that order, and marks the order released. It stays
-- `complete` (that is what its buyer sees); it just no longer holds the ticket.
ALTER TABLE orders ADD COLUMN released INTEGER NOT NULL DEFAULT 0 CHECK (released IN (0, 1));
DROP INDEX orders_one_active_per_ticket;
-- Still the rule that makes a stampede of buyers safe: at most one order holds a ticket.
CREATE UNIQUE INDEX orders_one_active_per_ticket ON orders (ticket_id)
    WHERE status <> 'cancelled' AND released = 0;

-- The line for a reserved ticket, first come first served (`n`, given in the order the joins
-- commit), one place per user per ticket. When the reservation ends, the first in line gets the
-- next order and leaves the line in the same transaction; a sale clears the line.
CREATE TABLE waitlist (
    n         INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id TEXT    NOT NULL,
    user_id   TEXT    NOT NULL,
    joined_at INTEGER NOT NULL,  -- unix milliseconds
    UNIQUE (ticket_id, user_id)
);
CREATE INDEX waitlist_by_ticket ON waitlist (ticket_id, n);
