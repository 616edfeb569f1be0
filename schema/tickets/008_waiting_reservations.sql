-- Reservations seen while the ticket was still held by an earlier order whose order:cancelled has
-- not arrived yet: order:created and order:cancelled travel on separate subscriptions (and in
-- split mode on separate JetStream consumers, one of which can stall through a NATS election for
-- longer than the bus's retries last). Orders, which owns reservations, placed this one, so the
-- earlier order's cancellation is on its way: when it frees the ticket, the first reservation
-- waiting here that is not itself cancelled (released_orders) takes it, in the same transaction.
-- Its order:completed, if that comes first, takes it at once (the sale proves the earlier order
-- is over). Waiting here instead of retrying means nothing is parked, and a stale order:created
-- re-queued from the dead letters can never take the ticket from a later reservation.
CREATE TABLE waiting_reservations (
    order_id    TEXT    PRIMARY KEY,
    ticket_id   TEXT    NOT NULL,
    price_cents INTEGER NOT NULL,          -- order:created's ticket price: what the buyer pays
    seen_at     INTEGER NOT NULL           -- unix milliseconds
) WITHOUT ROWID;
CREATE INDEX waiting_reservations_by_ticket ON waiting_reservations (ticket_id, seen_at);
