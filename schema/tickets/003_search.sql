-- Search (API.md, "Marketplace"): words of the title, price ranges and sorts on the listing.
--
-- The title index: FTS5 over the titles of listed tickets only (not reserved, not sold), so that
-- a match is a listed ticket and a search's count needs no look at the tickets table. External
-- content (the text lives once, in tickets), kept in step by the triggers below in the same
-- transaction as the ticket's change. (So never run FTS5's 'rebuild' on it: that would index
-- every ticket.) unicode61 with remove_diacritics 2 folds case and accents ("beyonce" finds
-- "Beyoncé") and splits words at punctuation ("ac/dc" is "ac" "dc"); the prefix indexes make the
-- short prefixes a user types ("radio comp") cheap.
CREATE VIRTUAL TABLE tickets_fts USING fts5(
    title,
    content = 'tickets',
    content_rowid = 'n',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);
INSERT INTO tickets_fts (rowid, title) SELECT n, title FROM tickets WHERE order_id IS NULL;

CREATE TRIGGER tickets_fts_insert AFTER INSERT ON tickets WHEN new.order_id IS NULL BEGIN
    INSERT INTO tickets_fts (rowid, title) VALUES (new.n, new.title);
END;
CREATE TRIGGER tickets_fts_delete AFTER DELETE ON tickets WHEN old.order_id IS NULL BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, title) VALUES ('delete', old.n, old.title);
END;
-- A new title, a reservation, its end, a sale, a relisting. The old entry goes before the new one
-- comes: FTS5's 'delete' takes out the tokens it is given, new ones included.
CREATE TRIGGER tickets_fts_update AFTER UPDATE OF title, order_id ON tickets
    WHEN new.title IS NOT old.title OR (new.order_id IS NULL) <> (old.order_id IS NULL) BEGIN
    INSERT INTO tickets_fts (tickets_fts, rowid, title) SELECT 'delete', old.n, old.title WHERE old.order_id IS NULL;
    INSERT INTO tickets_fts (rowid, title) SELECT new.n, new.title WHERE new.order_id IS NULL;
END;

-- Sorting the listing by price, ties newest first: ascending walks the first index forwards,
-- descending walks the second one backwards.
CREATE INDEX tickets_available_price_asc ON tickets (price_cents, n DESC) WHERE order_id IS NULL;
CREATE INDEX tickets_available_price_desc ON tickets (price_cents, n) WHERE order_id IS NULL;

-- The number of listed tickets, for X-Total-Count of the unfiltered listing without counting
-- 100,000 index entries per request. Kept by triggers in the ticket's own transaction.
CREATE TABLE tickets_listed_count (
    one   INTEGER PRIMARY KEY CHECK (one = 1),
    count INTEGER NOT NULL
);
INSERT INTO tickets_listed_count (one, count) SELECT 1, count(*) FROM tickets WHERE order_id IS NULL;

CREATE TRIGGER tickets_listed_insert AFTER INSERT ON tickets WHEN new.order_id IS NULL BEGIN
    UPDATE tickets_listed_count SET count = count + 1;
END;
CREATE TRIGGER tickets_listed_delete AFTER DELETE ON tickets WHEN old.order_id IS NULL BEGIN
    UPDATE tickets_listed_count SET count = count - 1;
END;
CREATE TRIGGER tickets_listed_update AFTER UPDATE OF order_id ON tickets
    WHEN (new.order_id IS NULL) <> (old.order_id IS NULL) BEGIN
    UPDATE tickets_listed_count SET count = count + (CASE WHEN new.order_id IS NULL THEN 1 ELSE -1 END);
END;
