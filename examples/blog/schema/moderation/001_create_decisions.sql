-- Every decision moderation took, and why: one per comment.
CREATE TABLE decisions (
    comment_id TEXT PRIMARY KEY,
    post_id TEXT NOT NULL,
    status TEXT NOT NULL CHECK (status IN ('approved', 'rejected')),
    banned_word TEXT,  -- the word that rejected it
    decided_at INTEGER NOT NULL
) WITHOUT ROWID;
