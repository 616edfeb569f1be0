-- Resale (API.md, "Ownership and resale") and the owner's own listing.
--
-- The completed order that sold the ticket last. While `order_id` is that order the ticket is
-- held by its sale (bought, not relisted): only then can its owner relist it. Tickets sold before
-- ownership existed (004) stay with their seller and are not resellable: NULL here.
ALTER TABLE tickets ADD COLUMN sold_order_id TEXT;

-- GET /api/tickets?owner=me: every ticket of one owner, newest first.
CREATE INDEX tickets_by_owner ON tickets (user_id, n DESC);

-- The titles of every ticket, listed or not, for `q` in the owner's listing (tickets_fts holds
-- listed tickets only). Same tokenizer and prefixes as tickets_fts; external content, kept in step
-- by the triggers below in the ticket's own transaction. Queried one row at a time (rowid = the
-- owner's ticket AND MATCH), so an owner's search never walks the whole market's matches.
CREATE VIRTUAL TABLE tickets_titles USING fts5(
    title,
    content = 'tickets',
    content_rowid = 'n',
    tokenize = 'unicode61 remove_diacritics 2',
    prefix = '1 2 3'
);
INSERT INTO tickets_titles (tickets_titles) VALUES ('rebuild');

CREATE TRIGGER tickets_titles_insert AFTER INSERT ON tickets BEGIN
    INSERT INTO tickets_titles (rowid, title) VALUES (new.n, new.title);
END;
CREATE TRIGGER tickets_titles_delete AFTER DELETE ON tickets BEGIN
    INSERT INTO tickets_titles (tickets_titles, rowid, title) VALUES ('delete', old.n, old.title);
END;
CREATE TRIGGER tickets_titles_update AFTER UPDATE OF title ON tickets WHEN new.title IS NOT old.title BEGIN
    INSERT INTO tickets_titles (tickets_titles, rowid, title) VALUES ('delete', old.n, old.title);
    INSERT INTO tickets_titles (rowid, title) VALUES (new.n, new.title);
END;
