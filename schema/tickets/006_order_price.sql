-- The price the order holding the ticket was placed at (order:created's ticket price: what the
-- buyer is charged). A PUT that reached tickets before that order:created could have changed the
-- listed price in between; the sale fixes the face value, and writes the history's `sold` entry,
-- at the price paid, never at the price shown later. NULL while no order holds the ticket.
-- Reservations made before this migration have none (nothing to fill it from): if they complete,
-- the face value is the ticket's price then, as before.
ALTER TABLE tickets ADD COLUMN order_price_cents INTEGER;
