-- Orders that ended (cancelled or paid) while they had no job here: their order:created had not
-- arrived yet (split mode delivers each subject on its own), or their job had already fired. A
-- late order:created for one of them adds no job, so a paid order's reservation never fires.
-- Rows older than a day are pruned as new ones come: an order:created parked for longer than that
-- and then re-queued from the dead letters adds an overdue job, whose expiration:complete orders
-- ignores for a paid order (as before this table). Each reservation that expired leaves a row (its
-- order:cancelled comes after the job fired): a day of expiries at most.
CREATE TABLE ended_orders (
    order_id TEXT    PRIMARY KEY,
    ended_at INTEGER NOT NULL          -- unix milliseconds
) WITHOUT ROWID;
CREATE INDEX ended_orders_by_time ON ended_orders (ended_at);
