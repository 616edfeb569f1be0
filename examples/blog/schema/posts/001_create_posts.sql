-- Posts, in the order they were written (n).
CREATE TABLE posts (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    title TEXT NOT NULL,
    created_at INTEGER NOT NULL  -- Unix ms
);
