-- The page's read model, built only from events: posts in log order, each with its comments in
-- log order and their latest status. Dropping this database rebuilds it from the log. Rows are
-- never deleted, so a plain INTEGER PRIMARY KEY grows in insertion order (no AUTOINCREMENT
-- bookkeeping on each insert of a rebuild).
CREATE TABLE posts (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL
);
CREATE TABLE comments (
    n INTEGER PRIMARY KEY,
    id TEXT NOT NULL UNIQUE,
    post_id TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL
);
-- No index by post: the page reads every comment in order (ORDER BY n is the rowid).
