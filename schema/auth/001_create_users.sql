-- Registered users. The email is stored trimmed and lower-cased; the unique index is what makes
-- two racing sign-ups for one address end with exactly one account.
CREATE TABLE users (
    id            TEXT    PRIMARY KEY,
    email         TEXT    NOT NULL,
    password_hash TEXT    NOT NULL,      -- scrypt$N$r$p$salt$hash (base64), see password.hpp
    created_at    INTEGER NOT NULL       -- unix milliseconds
);
CREATE UNIQUE INDEX users_email ON users (email);
