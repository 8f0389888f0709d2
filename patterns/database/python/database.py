"""A database the asyncio way, the Python side of patterns/database.

SQLite through aiosqlite by default (a file in a temporary directory, nothing to install),
PostgreSQL through asyncpg with --database-url (or DATABASE_URL). The demo is written once,
against asyncpg's pool; a small adapter gives aiosqlite the same shape. The schema is the
Rust crate's own migration file.

Run: python patterns/database/python/database.py [--database-url postgres://...]
"""

import argparse
import asyncio
import os
import re
import sqlite3
import tempfile
from contextlib import asynccontextmanager
from pathlib import Path

import aiosqlite
import asyncpg

MIGRATIONS = Path(__file__).resolve().parent.parent / "migrations"


class SqlitePool:
    """asyncpg's pool methods over aiosqlite: a new connection per acquire (aiosqlite has
    no pool), `$1` placeholders turned into `?`."""

    def __init__(self, path):
        self.path = path

    @asynccontextmanager
    async def acquire(self):
        async with aiosqlite.connect(self.path) as conn:
            await conn.execute("PRAGMA busy_timeout = 5000")
            await conn.execute("PRAGMA synchronous = NORMAL")  # commits to the WAL, the disk at checkpoints
            await conn.execute("PRAGMA foreign_keys = ON")
            yield SqliteConnection(conn)

    async def fetchval(self, sql, *args):
        async with self.acquire() as conn:
            return await conn.fetchval(sql, *args)

    async def fetchrow(self, sql, *args):
        async with self.acquire() as conn:
            return await conn.fetchrow(sql, *args)

    async def fetch(self, sql, *args):
        async with self.acquire() as conn:
            return await conn.fetch(sql, *args)


class SqliteConnection:
    def __init__(self, conn):
        self.conn = conn

    @staticmethod
    def _sql(sql):
        return re.sub(r"\$\d+", "?", sql)

    async def fetchval(self, sql, *args):
        async with self.conn.execute(self._sql(sql), args) as cursor:
            row = await cursor.fetchone()
        await self.conn.commit()
        return row[0] if row else None

    async def fetchrow(self, sql, *args):
        async with self.conn.execute(self._sql(sql), args) as cursor:
            return await cursor.fetchone()

    async def fetch(self, sql, *args):
        async with self.conn.execute(self._sql(sql), args) as cursor:
            return await cursor.fetchall()

    async def execute(self, sql, *args):
        await self.conn.execute(self._sql(sql), args)

    async def executemany(self, sql, rows):
        await self.conn.executemany(self._sql(sql), rows)

    @asynccontextmanager
    async def transaction(self):
        # BEGIN IMMEDIATE: take the write lock now, not on the first write (see the chapter).
        await self.conn.execute("BEGIN IMMEDIATE")
        try:
            yield
        except BaseException:
            await self.conn.rollback()
            raise
        await self.conn.commit()


# ANCHOR: connect
async def open_pool(url):
    if url.startswith(("postgres:", "postgresql:")):
        pool = await asyncpg.create_pool(url, min_size=1, max_size=5)
        await pool.execute((MIGRATIONS / "postgres" / "0001_schema.sql").read_text())
        return pool, (asyncpg.UniqueViolationError,)
    if url.startswith("sqlite:"):
        pool = SqlitePool(url.removeprefix("sqlite:"))
        async with aiosqlite.connect(pool.path) as conn:
            await conn.execute("PRAGMA journal_mode = WAL")
            await conn.executescript((MIGRATIONS / "sqlite" / "0001_schema.sql").read_text())
        return pool, (sqlite3.IntegrityError,)
    raise SystemExit(f"error: {url}: only sqlite: and postgres: URLs are supported")
# ANCHOR_END: connect


# ANCHOR: basics
async def insert_user(pool, name, email):
    # Bound parameters: the driver sends the values apart from the SQL. The tutorial's
    # f"... VALUES ('{name}', ...)" would let a name rewrite the statement.
    return await pool.fetchval(
        "INSERT INTO users (name, email) VALUES ($1, $2) RETURNING id", name, email)


async def user_by_id(pool, user_id):
    return await pool.fetchrow("SELECT id, name, email FROM users WHERE id = $1", user_id)
# ANCHOR_END: basics


# ANCHOR: details
async def user_details(pool, user_id):
    # Three queries at once: gather over the pool, one connection each.
    user, orders, bio = await asyncio.gather(
        user_by_id(pool, user_id),
        pool.fetch("SELECT id, item, cents FROM orders WHERE user_id = $1 ORDER BY id", user_id),
        pool.fetchval("SELECT bio FROM profiles WHERE user_id = $1", user_id),
    )
    return user, orders, bio
# ANCHOR_END: details


# ANCHOR: transaction
async def place_order(pool, user_id, bio, items):
    async with pool.acquire() as conn:
        async with conn.transaction():  # commit at the end, roll back on any exception
            if await conn.fetchrow("SELECT id FROM users WHERE id = $1", user_id) is None:
                raise LookupError(f"no user with id {user_id}")
            await conn.execute("INSERT INTO profiles (user_id, bio) VALUES ($1, $2)", user_id, bio)
            for item, cents in items:
                await conn.execute(
                    "INSERT INTO orders (user_id, item, cents) VALUES ($1, $2, $3)", user_id, item, cents)
# ANCHOR_END: transaction


# ANCHOR: bulk
async def insert_many(pool, rows):
    """Many rows in one transaction: the driver's own loop over one prepared statement."""
    async with pool.acquire() as conn, conn.transaction():
        await conn.executemany("INSERT INTO users (name, email) VALUES ($1, $2)", rows)
# ANCHOR_END: bulk


async def main(args):
    with tempfile.TemporaryDirectory() as scratch:
        url = args.database_url or f"sqlite:{scratch}/demo.db"
        pool, duplicate = await open_pool(url)
        print(f"1. connected to {url.split(':')[0]} and migrated")
        user_id = await insert_user(pool, "Ada", "ada@example.com")
        print(f"2. inserted user id {user_id}")
        print(f"3. fetched {tuple(await user_by_id(pool, user_id))}")
        five = [("Grace", "grace@example.com"), ("Alan", "alan@example.com"),
                ("Barbara", "barbara@example.com"), ("Edsger", "edsger@example.com"),
                ("Donald", "donald@example.com")]
        ids = await asyncio.gather(*(insert_user(pool, n, e) for n, e in five))
        print(f"4. five at once: ids {sorted(ids)}")
        items = [("Analytical Engine", 100_000), ("punched cards", 250), ("notes", 10)]
        await place_order(pool, user_id, "Wrote the first program", items)
        user, orders, bio = await user_details(pool, user_id)
        print(f"5. user {user[0]} with {len(orders)} orders and profile {bio!r}, fetched at once")
        for hostile in ["'; DROP TABLE users; --", "' OR '1'='1"]:
            hostile_id = await insert_user(pool, hostile, f"{len(hostile)}@example.com")
            print(f"6. stored as data: {(await user_by_id(pool, hostile_id))[1]}")
        print(f"   users still there: {await pool.fetchval('SELECT COUNT(*) FROM users')}")
        # ANCHOR: duplicate
        try:
            await insert_user(pool, "Ada again", "ada@example.com")
            raise SystemExit("error: a duplicate email should be refused")
        except duplicate as error:  # the driver's own class: asyncpg's or sqlite3's
            print(f"7. duplicate email refused: {type(error).__name__}")
        # ANCHOR_END: duplicate
        try:
            await place_order(pool, 999, "nobody", items)
        except LookupError as error:
            orders = await pool.fetchval("SELECT COUNT(*) FROM orders")
            print(f"8. a transaction for an unknown user failed ({error}) and wrote nothing: {orders} orders")
        # ANCHOR: scoped
        async with pool.acquire() as conn:  # released after the block, however it ends
            name = (await conn.fetchrow("SELECT name FROM users WHERE id = $1", user_id))[0]
        # ANCHOR_END: scoped
        print(f"9. a connection as a scoped resource read {name!r}, then released")
        before = await pool.fetchval("SELECT COUNT(*) FROM users")
        await insert_many(pool, [(f"bulk {i}", f"bulk{i}@example.com") for i in range(10_000)])
        added = await pool.fetchval("SELECT COUNT(*) FROM users") - before
        print(f"10. bulk insert in one executemany: {added} rows, nothing lost: {added == 10_000}")
        if isinstance(pool, asyncpg.Pool):
            await pool.close()


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--database-url", default=os.environ.get("DATABASE_URL"),
                        help="a sqlite: or postgres: URL (default: SQLite in a temporary directory)")
    asyncio.run(main(parser.parse_args()))
