"""The database benchmarks' Python side: asyncpg on PostgreSQL (--postgres-url) or aiosqlite
on SQLite (--sqlite-path).

--workload insert: N rows one by one, in one transaction, and as one batched statement
(UNNEST of two arrays on PostgreSQL, executemany on SQLite), the table emptied first.
--workload select: N point selects by id from 10 tasks, over a pool of 10 (asyncpg) or
10 connections (aiosqlite has no pool).
Run by `cargo bench -p database`, which starts the PostgreSQL and makes the SQLite file.
"""

import asyncio
import sys
import time
from pathlib import Path

import aiosqlite
import asyncpg

sys.path.insert(0, str(Path(__file__).resolve().parents[3] / "crates/bench-harness/python"))
import bench_harness  # noqa: E402  (found through the line above)

TASKS = 10
INSERT = "INSERT INTO users (name, email) VALUES ($1, $2)"
SELECT = "SELECT id, name, email FROM users WHERE id = $1"


def rows(n):
    return [(f"user {i}", f"u{i}@example.com") for i in range(n)]


# ANCHOR: inserts
async def pg_one_by_one(pool, rows):
    for name, email in rows:
        await pool.execute(INSERT, name, email)


async def pg_in_one_transaction(pool, rows):
    async with pool.acquire() as conn, conn.transaction():
        for name, email in rows:
            await conn.execute(INSERT, name, email)


async def pg_batched(pool, rows):
    names, emails = zip(*rows)
    await pool.execute("INSERT INTO users (name, email) SELECT * FROM UNNEST($1::text[], $2::text[])",
                       list(names), list(emails))
# ANCHOR_END: inserts


async def pg_copy(pool, rows):
    """COPY in asyncpg's binary format: its bulk load."""
    await pool.copy_records_to_table("users", records=rows, columns=["name", "email"])


async def sqlite_one_by_one(conn, rows):
    for name, email in rows:
        await conn.execute(INSERT.replace("$1", "?").replace("$2", "?"), (name, email))
        await conn.commit()


async def sqlite_in_one_transaction(conn, rows):
    await conn.execute("BEGIN IMMEDIATE")
    for name, email in rows:
        await conn.execute("INSERT INTO users (name, email) VALUES (?, ?)", (name, email))
    await conn.commit()


async def sqlite_batched(conn, rows):
    await conn.execute("BEGIN IMMEDIATE")
    await conn.executemany("INSERT INTO users (name, email) VALUES (?, ?)", rows)
    await conn.commit()


async def timed_insert(insert, target, empty, count, n):
    await empty()
    data = rows(n)  # made before the clock starts, as the Rust side's are
    started = time.perf_counter()
    await insert(target, data)
    secs = time.perf_counter() - started
    assert await count() == n, "rows lost"
    return secs


async def inserts(args):
    n = args.items
    if args.postgres_url:
        pool = await asyncpg.create_pool(args.postgres_url, min_size=TASKS, max_size=TASKS)
        for variant, insert in (("one-by-one", pg_one_by_one), ("one-transaction", pg_in_one_transaction),
                                ("batched", pg_batched), ("copy", pg_copy)):
            durations = [await timed_insert(
                insert, pool, lambda: pool.execute("TRUNCATE users, orders, profiles RESTART IDENTITY"),
                lambda: pool.fetchval("SELECT COUNT(*) FROM users"), n) for _ in range(args.runs + 1)][1:]
            bench_harness.emit(args, "postgres-insert", f"python-asyncpg-{variant}", n, durations)
        await pool.close()
        return
    async with aiosqlite.connect(args.sqlite_path) as conn:
        await conn.execute("PRAGMA busy_timeout = 5000")
        await conn.execute("PRAGMA synchronous = NORMAL")  # as the pattern's pool commits

        async def empty():
            await conn.execute("DELETE FROM users")
            await conn.commit()
            await conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")  # each run from an empty WAL

        async def count():
            async with conn.execute("SELECT COUNT(*) FROM users") as cursor:
                return (await cursor.fetchone())[0]

        if args.workload == "bulk-insert":
            durations = [await timed_insert(sqlite_batched, conn, empty, count, n) for _ in range(args.runs + 1)][1:]
            bench_harness.emit(args, "sqlite-bulk-insert", "python-aiosqlite-executemany", n, durations)
            return
        for variant, insert in (("one-by-one", sqlite_one_by_one), ("one-transaction", sqlite_in_one_transaction)):
            durations = [await timed_insert(insert, conn, empty, count, n) for _ in range(args.runs + 1)][1:]
            bench_harness.emit(args, "sqlite-insert", f"python-aiosqlite-{variant}", n, durations)
        # One by one again, each commit waiting for the disk, as on the Rust side.
        await conn.execute("PRAGMA synchronous = FULL")
        durations = [await timed_insert(sqlite_one_by_one, conn, empty, count, n) for _ in range(args.runs + 1)][1:]
        bench_harness.emit(args, "sqlite-insert", "python-aiosqlite-one-by-one-synchronous-full", n, durations)


# ANCHOR: selects
async def select_all(n, select):
    async def task(first):
        return sum([await select(i) is not None for i in range(first, n + 1, TASKS)])

    found = await asyncio.gather(*(task(first) for first in range(1, TASKS + 1)))
    return sum(found)
# ANCHOR_END: selects


async def select_all_holding(n, pool):
    """The same selects, each task holding one connection for its whole share."""
    async def task(first):
        async with pool.acquire() as conn:
            return sum([await conn.fetchrow(SELECT, i) is not None for i in range(first, n + 1, TASKS)])

    return sum(await asyncio.gather(*(task(first) for first in range(1, TASKS + 1))))


async def timed_selects(n, select, holding=None):
    started = time.perf_counter()
    found = await (select_all_holding(n, holding) if holding else select_all(n, select))
    secs = time.perf_counter() - started
    assert found == n, f"found {found} of {n}"
    return secs


async def selects(args):
    n = args.items
    if args.postgres_url:
        pool = await asyncpg.create_pool(args.postgres_url, min_size=TASKS, max_size=TASKS)
        await pool.execute("TRUNCATE users, orders, profiles RESTART IDENTITY")
        await pg_batched(pool, rows(n))
        cpu = time.process_time()
        durations = [await timed_selects(n, lambda i: pool.fetchrow(SELECT, i)) for _ in range(args.runs + 1)][1:]
        cpu_us = (time.process_time() - cpu) * 1e6 / (n * (args.runs + 1))
        bench_harness.emit(args, "postgres-select", "python-asyncpg-10-tasks", n, durations,
                           cpu_us_per_item=cpu_us)
        cpu = time.process_time()
        durations = [await timed_selects(n, None, holding=pool) for _ in range(args.runs + 1)][1:]
        cpu_us = (time.process_time() - cpu) * 1e6 / (n * (args.runs + 1))
        bench_harness.emit(args, "postgres-select", "python-asyncpg-10-tasks-holding-a-connection", n,
                           durations, cpu_us_per_item=cpu_us)
        await pool.close()
        return
    conns = [await aiosqlite.connect(args.sqlite_path) for _ in range(TASKS)]
    try:
        await conns[0].execute("DELETE FROM users")
        await conns[0].commit()  # sqlite3 opened a transaction for the DELETE by itself
        await sqlite_batched(conns[0], rows(n))

        async def select(i):
            conn = conns[i % TASKS]  # each task's ids share one remainder: its own connection
            async with conn.execute("SELECT id, name, email FROM users WHERE id = ?", (i,)) as cursor:
                return await cursor.fetchone()

        durations = [await timed_selects(n, select) for _ in range(args.runs + 1)][1:]
        bench_harness.emit(args, "sqlite-select", "python-aiosqlite-10-tasks", n, durations)
    finally:
        for conn in conns:
            await conn.close()


def main():
    parser = bench_harness.arguments(__doc__, items=10_000)
    parser.add_argument("--workload", choices=["insert", "bulk-insert", "select"], required=True)
    target = parser.add_mutually_exclusive_group(required=True)
    target.add_argument("--postgres-url", help="asyncpg on this PostgreSQL")
    target.add_argument("--sqlite-path", help="aiosqlite on this SQLite file")
    args = bench_harness.parse(parser)
    bench_harness.run_on(args.loop, selects(args) if args.workload == "select" else inserts(args))


if __name__ == "__main__":
    main()
