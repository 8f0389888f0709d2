-- Users, their orders and their profile. `INTEGER PRIMARY KEY` is SQLite's rowid: it
-- numbers new rows by itself, as PostgreSQL's identity column does.
CREATE TABLE users (
    id INTEGER PRIMARY KEY,
    name TEXT NOT NULL,
    email TEXT NOT NULL UNIQUE
);

CREATE TABLE orders (
    id INTEGER PRIMARY KEY,
    user_id INTEGER NOT NULL REFERENCES users (id),
    item TEXT NOT NULL,
    cents INTEGER NOT NULL
);

CREATE TABLE profiles (
    user_id INTEGER PRIMARY KEY REFERENCES users (id),
    bio TEXT NOT NULL
);
