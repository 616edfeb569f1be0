-- The posts comments may be written on: a replica, filled from post:created.
CREATE TABLE posts (
    id TEXT PRIMARY KEY,
    title TEXT NOT NULL
) WITHOUT ROWID;

-- Comments, oldest first by n; status is pending until moderation decides.
CREATE TABLE comments (
    n INTEGER PRIMARY KEY AUTOINCREMENT,
    id TEXT NOT NULL UNIQUE,
    post_id TEXT NOT NULL REFERENCES posts (id),
    content TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('pending', 'approved', 'rejected')),
    created_at INTEGER NOT NULL
);
CREATE INDEX comments_by_post ON comments (post_id, n);
