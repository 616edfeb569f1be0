-- The page's read model, built only from events: posts in log order, each with its comments in
-- log order and their latest status. Dropping this database rebuilds it from the log.
CREATE TABLE posts (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL
);
CREATE TABLE comments (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    post_id TEXT NOT NULL,
    content TEXT NOT NULL,
    status TEXT NOT NULL
);
CREATE INDEX comments_by_post ON comments (post_id, n);
