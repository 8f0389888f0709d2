"""Items and orders over aiosqlite, and the event fan-out: the Python side of the Rust
crate's store.rs and events.rs, shared by the FastAPI and aiohttp.web versions."""

import asyncio
import json
import sqlite3

import aiosqlite

SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL UNIQUE,
    price_cents INTEGER NOT NULL CHECK (price_cents >= 0),
    stock INTEGER NOT NULL CHECK (stock >= 0)
);
CREATE TABLE IF NOT EXISTS orders (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    item_id INTEGER NOT NULL REFERENCES items (id),
    quantity INTEGER NOT NULL CHECK (quantity > 0),
    total_cents INTEGER NOT NULL
);
"""


class NotFound(Exception):
    """404: no such row."""


class Conflict(Exception):
    """409: the request clashes with what is stored."""


def item_of(row):
    return {"id": row[0], "name": row[1], "price_cents": row[2], "stock": row[3]}


class Store:
    """One aiosqlite connection, one conversation at a time: two requests interleaving
    their statements on it would commit each other's half-done work (sqlite3 says
    "cannot commit transaction - SQL statements in progress"). The lock is the pool of
    one that sqlx's pool is in Rust."""

    def __init__(self, db):
        self.db = db
        self.lock = asyncio.Lock()

    @classmethod
    async def open(cls, path):
        db = await aiosqlite.connect(path)
        # As the Rust store: writers wait for the lock, readers never block the writer
        # (and several worker processes can share the file), commits skip the fsync.
        await db.execute("PRAGMA busy_timeout = 5000")
        await db.execute("PRAGMA journal_mode = WAL")
        await db.execute("PRAGMA synchronous = NORMAL")
        await db.execute("PRAGMA foreign_keys = ON")
        await db.executescript(SCHEMA)
        return cls(db)

    async def close(self):
        await self.db.close()

    async def create_item(self, name, price_cents, stock):
        async with self.lock:
            try:
                cursor = await self.db.execute(
                    "INSERT INTO items (name, price_cents, stock) VALUES (?, ?, ?) RETURNING id",
                    (name, price_cents, stock))
                (item_id,) = await cursor.fetchone()
                await self.db.commit()
            except sqlite3.IntegrityError:
                await self.db.rollback()
                raise Conflict(f'an item named "{name}" exists')
            return {"id": item_id, "name": name, "price_cents": price_cents, "stock": stock}

    async def item(self, item_id):
        async with self.lock:
            return await self._item(item_id)

    async def _item(self, item_id):
        cursor = await self.db.execute(
            "SELECT id, name, price_cents, stock FROM items WHERE id = ?", (item_id,))
        row = await cursor.fetchone()
        if row is None:
            raise NotFound(f"item {item_id} not found")
        return item_of(row)

    async def items(self, limit, offset):
        async with self.lock:
            cursor = await self.db.execute(
                "SELECT id, name, price_cents, stock FROM items ORDER BY id LIMIT ? OFFSET ?",
                (limit, offset))
            return [item_of(row) for row in await cursor.fetchall()]

    async def delete_item(self, item_id):
        async with self.lock:
            try:
                cursor = await self.db.execute("DELETE FROM items WHERE id = ?", (item_id,))
                await self.db.commit()
            except sqlite3.IntegrityError:
                await self.db.rollback()
                raise Conflict(f"item {item_id} has orders")
            if cursor.rowcount == 0:
                raise NotFound(f"item {item_id} not found")

    # ANCHOR: place_order
    async def place_order(self, item_id, quantity):
        """Takes the stock and records the order in one transaction: both or neither."""
        async with self.lock:
            try:
                cursor = await self.db.execute(
                    "UPDATE items SET stock = stock - ? WHERE id = ? AND stock >= ? "
                    "RETURNING price_cents, stock", (quantity, item_id, quantity))
                taken = await cursor.fetchone()
                if taken is None:
                    await self.db.rollback()
                    item = await self._item(item_id)
                    raise Conflict(f"item {item_id} has {item['stock']} in stock")
                total = taken[0] * quantity
                cursor = await self.db.execute(
                    "INSERT INTO orders (item_id, quantity, total_cents) VALUES (?, ?, ?) RETURNING id",
                    (item_id, quantity, total))
                (order_id,) = await cursor.fetchone()
                await self.db.commit()
            except asyncio.CancelledError:
                await asyncio.shield(self.db.rollback())  # a client that hung up: undo
                raise
            order = {"id": order_id, "item_id": item_id, "quantity": quantity, "total_cents": total}
            return order, taken[1]
    # ANCHOR_END: place_order

    async def order(self, order_id):
        async with self.lock:
            cursor = await self.db.execute(
                "SELECT id, item_id, quantity, total_cents FROM orders WHERE id = ?", (order_id,))
            row = await cursor.fetchone()
            if row is None:
                raise NotFound(f"order {order_id} not found")
            return {"id": row[0], "item_id": row[1], "quantity": row[2], "total_cents": row[3]}

    async def summary(self):
        async with self.lock:
            cursor = await self.db.execute("SELECT COUNT(*), COALESCE(SUM(total_cents), 0) FROM orders")
            return tuple(await cursor.fetchone())


# ANCHOR: events
class Events:
    """One bounded queue per listener: the fan-out tokio's broadcast channel does. A
    listener that falls behind loses its oldest updates instead of slowing the others."""

    def __init__(self, backlog=256):
        self.listeners = set()
        self.backlog = backlog
        self.stopping = asyncio.Event()

    def publish(self, update):
        for queue in list(self.listeners):
            if queue.full():
                queue.get_nowait()
            queue.put_nowait(update)

    async def stream(self):
        """Server-Sent Events until the server stops; the queue goes when the client does."""
        queue = asyncio.Queue(self.backlog)
        self.listeners.add(queue)
        try:
            while not self.stopping.is_set():
                getter = asyncio.ensure_future(queue.get())
                stopper = asyncio.ensure_future(self.stopping.wait())
                done, pending = await asyncio.wait({getter, stopper}, return_when=asyncio.FIRST_COMPLETED)
                for task in pending:
                    task.cancel()
                if getter in done:
                    yield f"event: update\ndata: {json.dumps(getter.result())}\n\n"
        finally:
            self.listeners.discard(queue)
# ANCHOR_END: events


async def publish_summaries(store, events, every):
    """The lifespan's background task: a summary now and then, until cancelled."""
    while True:
        await asyncio.sleep(every)
        orders, revenue = await store.summary()
        events.publish({"type": "summary", "orders": orders, "revenue_cents": revenue})
