"""The shop API in FastAPI: pydantic models, Depends, HTTPException, a lifespan with a
background task, middleware, Server-Sent Events and the OpenAPI document. The Python beside
`cargo run -p web-api`; its tests are test_shop_fastapi.py.

    python patterns/web-api/python/shop_fastapi.py            # the scripted tour, then exit
    python patterns/web-api/python/shop_fastapi.py --serve 8000
"""

import argparse
import asyncio
import contextlib
import json
import os
import sqlite3
import tempfile
import uuid

import aiosqlite
import httpx
import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

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
MAX_BODY = 64 * 1024


# ANCHOR: models
class NewItem(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price_cents: int = Field(ge=0, le=100_000_000)
    stock: int = Field(ge=0, le=1_000_000)


class Item(NewItem):
    id: int


class NewOrder(BaseModel):
    item_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=1_000)
# ANCHOR_END: models


class Order(NewOrder):
    id: int
    total_cents: int


class Events:
    """One queue per listener: the fan-out a broadcast channel does in Rust."""

    def __init__(self, backlog=256):
        self.listeners = set()
        self.backlog = backlog
        self.stopping = asyncio.Event()

    def publish(self, update):
        for queue in list(self.listeners):
            if queue.full():
                queue.get_nowait()  # a slow listener loses the oldest
            queue.put_nowait(update)

    async def stream(self):
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


# ANCHOR: lifespan
def create_app(database, summary_every=30.0):
    @contextlib.asynccontextmanager
    async def lifespan(app):
        db = await aiosqlite.connect(database)
        await db.execute("PRAGMA foreign_keys = ON")
        await db.executescript(SCHEMA)
        app.state.db = db
        app.state.events = Events()
        summaries = asyncio.create_task(publish_summaries(app, summary_every))
        yield
        app.state.events.stopping.set()
        summaries.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await summaries
        await db.close()
    # ANCHOR_END: lifespan

    app = FastAPI(title="Shop API", lifespan=lifespan)
    app.add_middleware(GZipMiddleware, minimum_size=500)
    app.add_middleware(CORSMiddleware, allow_origins=[], allow_methods=["GET", "POST", "DELETE"])

    @app.middleware("http")
    async def request_id_and_body_limit(request: Request, call_next):
        request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
        length = request.headers.get("content-length")
        if length is not None and int(length) > MAX_BODY:
            response = JSONResponse({"detail": "payload too large"}, status_code=413)
        else:
            response = await call_next(request)
        response.headers["x-request-id"] = request_id
        return response

    # ANCHOR: validation
    @app.exception_handler(RequestValidationError)
    async def invalid(request, error):
        # FastAPI answers 422 for a body that is not JSON at all; this API says 400, as
        # the Rust one does, and keeps 422 for JSON that does not fit the model.
        errors = error.errors()
        if any(e["type"] == "json_invalid" for e in errors):
            return JSONResponse({"detail": "the body is not valid JSON"}, status_code=400)
        detail = [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors]
        return JSONResponse({"detail": detail}, status_code=422)
    # ANCHOR_END: validation

    @app.exception_handler(Exception)
    async def internal(request, error):
        return JSONResponse({"detail": "internal server error"}, status_code=500)

    def db(request: Request):
        return request.app.state.db

    @app.post("/items", status_code=201, response_model=Item)
    async def create_item(new: NewItem, conn=Depends(db)):
        try:
            cursor = await conn.execute(
                "INSERT INTO items (name, price_cents, stock) VALUES (?, ?, ?) RETURNING id",
                (new.name, new.price_cents, new.stock))
            (item_id,) = await cursor.fetchone()
            await conn.commit()
        except sqlite3.IntegrityError:
            await conn.rollback()
            raise HTTPException(409, f'an item named "{new.name}" exists')
        item = Item(id=item_id, **new.model_dump())
        return JSONResponse(item.model_dump(), status_code=201, headers={"location": f"/items/{item_id}"})

    @app.get("/items", response_model=list[Item])
    async def list_items(limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0), conn=Depends(db)):
        cursor = await conn.execute(
            "SELECT id, name, price_cents, stock FROM items ORDER BY id LIMIT ? OFFSET ?", (limit, offset))
        return [Item(id=r[0], name=r[1], price_cents=r[2], stock=r[3]) for r in await cursor.fetchall()]

    @app.get("/items/{id}", response_model=Item)
    async def get_item(id: int, conn=Depends(db)):
        cursor = await conn.execute("SELECT id, name, price_cents, stock FROM items WHERE id = ?", (id,))
        row = await cursor.fetchone()
        if row is None:
            raise HTTPException(404, f"item {id} not found")
        return Item(id=row[0], name=row[1], price_cents=row[2], stock=row[3])

    @app.delete("/items/{id}", status_code=204)
    async def delete_item(id: int, conn=Depends(db)):
        try:
            cursor = await conn.execute("DELETE FROM items WHERE id = ?", (id,))
            await conn.commit()
        except sqlite3.IntegrityError:
            await conn.rollback()
            raise HTTPException(409, f"item {id} has orders")
        if cursor.rowcount == 0:
            raise HTTPException(404, f"item {id} not found")

    # ANCHOR: create_order
    @app.post("/orders", status_code=201, response_model=Order)
    async def create_order(new: NewOrder, request: Request, conn=Depends(db)):
        cursor = await conn.execute(
            "UPDATE items SET stock = stock - ? WHERE id = ? AND stock >= ? RETURNING price_cents, stock",
            (new.quantity, new.item_id, new.quantity))
        taken = await cursor.fetchone()
        if taken is None:
            await conn.rollback()
            item = await get_item(new.item_id, conn)
            raise HTTPException(409, f"item {item.id} has {item.stock} in stock")
        total = taken[0] * new.quantity
        cursor = await conn.execute(
            "INSERT INTO orders (item_id, quantity, total_cents) VALUES (?, ?, ?) RETURNING id",
            (new.item_id, new.quantity, total))
        (order_id,) = await cursor.fetchone()
        await conn.commit()
        order = Order(id=order_id, total_cents=total, **new.model_dump())
        request.app.state.events.publish({"type": "order_placed", "order": order.model_dump(), "stock_left": taken[1]})
        return JSONResponse(order.model_dump(), status_code=201, headers={"location": f"/orders/{order_id}"})
    # ANCHOR_END: create_order

    @app.get("/orders/{id}", response_model=Order)
    async def get_order(id: int, conn=Depends(db)):
        cursor = await conn.execute("SELECT id, item_id, quantity, total_cents FROM orders WHERE id = ?", (id,))
        row = await cursor.fetchone()
        if row is None:
            raise HTTPException(404, f"order {id} not found")
        return Order(id=row[0], item_id=row[1], quantity=row[2], total_cents=row[3])

    @app.get("/events")
    async def updates(request: Request):
        return StreamingResponse(request.app.state.events.stream(), media_type="text/event-stream")

    @app.get("/demo/panic")
    async def panic():
        raise RuntimeError("a bug in a handler")

    return app


async def publish_summaries(app, every):
    while True:
        await asyncio.sleep(every)
        cursor = await app.state.db.execute("SELECT COUNT(*), COALESCE(SUM(total_cents), 0) FROM orders")
        orders, revenue = await cursor.fetchone()
        app.state.events.publish({"type": "summary", "orders": orders, "revenue_cents": revenue})


def summary(body):
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        return " ".join(f"field={'.'.join(e['loc'][1:])} ({e['msg']})" for e in detail)
    if isinstance(detail, str):
        return f'detail="{detail}"'
    return json.dumps(body, separators=(",", ":"))


async def call(client, method, path, **kwargs):
    response = await client.request(method, path, **kwargs)
    location = f" location={response.headers['location']}" if "location" in response.headers else ""
    body = "" if response.status_code == 204 else summary(response.json())
    print(f"{method} {path[:40]} -> {response.status_code}{location} {body}")
    return response


# ANCHOR: tour
async def tour(base):
    async with httpx.AsyncClient(base_url=base) as client:
        teapot = {"name": "teapot", "price_cents": 1250, "stock": 3}
        await call(client, "POST", "/items", json=teapot)
        await call(client, "POST", "/items", json=teapot)
        await call(client, "POST", "/items", json={"name": "", "price_cents": -1, "stock": 1})
        await call(client, "POST", "/items", json={"name": "cup", "price_cents": "cheap", "stock": 1})
        await call(client, "POST", "/items", json={"name": "cup", "stock": 1})
        await call(client, "POST", "/items", content='{"name": "cup",', headers={"content-type": "application/json"})
        await call(client, "POST", "/items", json={"name": "x" * 100_000, "price_cents": 1, "stock": 1})
        await call(client, "GET", "/items/1")
        await call(client, "GET", "/items/999")
        await call(client, "GET", "/items?limit=0")
        await call(client, "POST", "/orders", json={"item_id": 1, "quantity": 2})
        await call(client, "POST", "/orders", json={"item_id": 1, "quantity": 2})
        await call(client, "GET", "/nowhere")
        await call(client, "GET", "/demo/panic")
        await call(client, "GET", "/items/1")
        document = (await client.get("/openapi.json")).json()
        print(f"OpenAPI document: {len(document['paths'])} paths")
        stock = (await client.get("/items/1")).json()["stock"]
        orders = (await client.get("/orders/1")).status_code == 200
        print(f"nothing lost: {str(stock == 1 and orders).lower()}")
# ANCHOR_END: tour


async def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, metavar="PORT")
    args = parser.parse_args()
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(os.path.join(scratch, "shop.db"))
        port = args.serve or 0
        config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning",
                                limit_concurrency=512, timeout_graceful_shutdown=10)
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        if args.serve:
            print(f"serving http://127.0.0.1:{port}; Ctrl-C stops")
            await serving
            return
        # A handler's exception reaches the client as a 500; the server keeps serving.
        await tour(f"http://127.0.0.1:{port}")
        server.should_exit = True
        await serving
        print("shutdown: clean")


if __name__ == "__main__":
    asyncio.run(main())
