-- Ownership (API.md, "Ownership and resale"). When a ticket's order completes, the ticket passes
-- to its buyer: `user_id` is its current owner from then on (the seller only until the first
-- sale). Its face value is its price until that first sale, then for good the price that buyer
-- paid: NULL here until then.
ALTER TABLE tickets ADD COLUMN face_value_cents INTEGER;

-- What happened to a ticket, append-only, oldest first: each entry written in the same
-- transaction as the change it records. No user ids: the history is public.
CREATE TABLE ticket_history (
    n           INTEGER PRIMARY KEY AUTOINCREMENT,
    ticket_id   TEXT    NOT NULL,
    at          INTEGER NOT NULL,  -- unix milliseconds
    event       TEXT    NOT NULL CHECK (event IN ('listed', 'price-changed', 'sold', 'relisted')),
    price_cents INTEGER NOT NULL
);
CREATE INDEX ticket_history_by_ticket ON ticket_history (ticket_id, n);

-- Tickets from before: listed when created, and sold when their sale was recorded (002). Their
-- `user_id` stays the seller's: passing them to their buyers here would change them without the
-- ticket:updated that every other service learns changes from.
INSERT INTO ticket_history (ticket_id, at, event, price_cents)
    SELECT id, created_at, 'listed', price_cents FROM tickets ORDER BY n;
INSERT INTO ticket_history (ticket_id, at, event, price_cents)
    SELECT id, sold_at, 'sold', price_cents FROM tickets WHERE sold_at IS NOT NULL ORDER BY sold_at, n;
UPDATE tickets SET face_value_cents = price_cents WHERE sold_at IS NOT NULL;
