-- The owner's listing (?owner=me) matches its words in memory, by the title index's own rule
-- (SearchQuery::matches, on words split by the same tokenizer): an owner has few tickets, and
-- their index (tickets_by_owner) drives. The second FTS5 table over every title (005) cost each
-- ticket's transaction as much as the listing's index does, for no faster a query: it goes.
DROP TRIGGER tickets_titles_insert;
DROP TRIGGER tickets_titles_delete;
DROP TRIGGER tickets_titles_update;
DROP TABLE tickets_titles;
