"""The shop API in FastAPI: pydantic models, Depends, HTTPException, a lifespan with a
background task, middleware, Server-Sent Events and the OpenAPI document. The Python beside
`cargo run -p web-api`; its tests are test_shop_fastapi.py.

    python patterns/web-api/python/shop_fastapi.py            # the scripted tour, then exit
    python patterns/web-api/python/shop_fastapi.py --serve 8000 --workers 2
"""

import argparse
import asyncio
import contextlib
import os
import tempfile
import uuid

import uvicorn
from fastapi import Depends, FastAPI, HTTPException, Query, Request
from fastapi.exceptions import RequestValidationError
from fastapi.middleware.cors import CORSMiddleware
from fastapi.middleware.gzip import GZipMiddleware
from fastapi.responses import JSONResponse, StreamingResponse
from pydantic import BaseModel, Field

from shop.store import Conflict, Events, NotFound, Store, publish_summaries
from shop.tour import tour

MAX_BODY = 64 * 1024


# ANCHOR: models
class NewItem(BaseModel):
    name: str = Field(min_length=1, max_length=100)
    price_cents: int = Field(ge=0, le=100_000_000)
    stock: int = Field(ge=0, le=1_000_000)


class Item(NewItem):
    id: int
# ANCHOR_END: models


class NewOrder(BaseModel):
    item_id: int = Field(ge=1)
    quantity: int = Field(ge=1, le=1_000)


class Order(NewOrder):
    id: int
    total_cents: int


# ANCHOR: lifespan
@contextlib.asynccontextmanager
async def lifespan(app):
    app.state.store = await Store.open(app.state.database)
    app.state.events = Events()
    summaries = asyncio.create_task(
        publish_summaries(app.state.store, app.state.events, app.state.summary_every))
    yield
    app.state.events.stopping.set()  # event streams end
    summaries.cancel()
    with contextlib.suppress(asyncio.CancelledError):
        await summaries
    await app.state.store.close()
# ANCHOR_END: lifespan


# ANCHOR: app
def create_app(database, summary_every=30.0):
    app = FastAPI(title="Shop API", lifespan=lifespan)
    app.state.database = database
    app.state.summary_every = summary_every
    add_middleware(app)
    add_error_handlers(app)
    add_routes(app)
    return app
# ANCHOR_END: app


# ANCHOR: middleware
def add_middleware(app):
    app.add_middleware(GZipMiddleware, minimum_size=500)
    app.add_middleware(CORSMiddleware, allow_origins=[], allow_methods=["GET", "POST", "DELETE"])

    @app.middleware("http")
    async def request_id_and_body_checks(request: Request, call_next):
        request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
        length = int(request.headers.get("content-length") or 0)
        kind = request.headers.get("content-type", "").split(";")[0].strip()
        if length > MAX_BODY:
            response = JSONResponse({"detail": "payload too large"}, status_code=413)
        elif request.method == "POST" and kind != "application/json":
            response = JSONResponse({"detail": "expected Content-Type: application/json"}, status_code=415)
        else:
            response = await call_next(request)
        response.headers["x-request-id"] = request_id
        return response
# ANCHOR_END: middleware


# ANCHOR: errors
def add_error_handlers(app):
    @app.exception_handler(RequestValidationError)
    async def invalid(request, error):
        # FastAPI answers 422 for a body that is not JSON at all; this API says 400, as
        # the Rust one does, and keeps 422 for JSON that does not fit the model.
        errors = error.errors()
        if any(e["type"] == "json_invalid" for e in errors):
            return JSONResponse({"detail": "the body is not valid JSON"}, status_code=400)
        detail = [{"loc": [str(p) for p in e["loc"]], "msg": e["msg"], "type": e["type"]} for e in errors]
        return JSONResponse({"detail": detail}, status_code=422)

    @app.exception_handler(NotFound)
    async def not_found(request, error):
        return JSONResponse({"detail": str(error)}, status_code=404)

    @app.exception_handler(Conflict)
    async def conflict(request, error):
        return JSONResponse({"detail": str(error)}, status_code=409)

    @app.exception_handler(Exception)
    async def internal(request, error):
        return JSONResponse({"detail": "internal server error"}, status_code=500)
# ANCHOR_END: errors


def store(request: Request) -> Store:
    return request.app.state.store


def add_routes(app):
    # ANCHOR: create_item
    @app.post("/items", status_code=201, response_model=Item)
    async def create_item(new: NewItem, store: Store = Depends(store)):
        item = await store.create_item(new.name, new.price_cents, new.stock)
        return JSONResponse(item, status_code=201, headers={"location": f"/items/{item['id']}"})
    # ANCHOR_END: create_item

    @app.get("/items", response_model=list[Item])
    async def list_items(limit: int = Query(20, ge=1, le=100), offset: int = Query(0, ge=0),
                         store: Store = Depends(store)):
        return await store.items(limit, offset)

    @app.get("/items/{id}", response_model=Item)
    async def get_item(id: int, store: Store = Depends(store)):
        return await store.item(id)

    @app.delete("/items/{id}", status_code=204)
    async def delete_item(id: int, store: Store = Depends(store)):
        await store.delete_item(id)

    # ANCHOR: create_order
    @app.post("/orders", status_code=201, response_model=Order)
    async def create_order(new: NewOrder, request: Request, store: Store = Depends(store)):
        order, stock_left = await store.place_order(new.item_id, new.quantity)
        request.app.state.events.publish(
            {"type": "order_placed", "order": order, "stock_left": stock_left})
        return JSONResponse(order, status_code=201, headers={"location": f"/orders/{order['id']}"})
    # ANCHOR_END: create_order

    @app.get("/orders/{id}", response_model=Order)
    async def get_order(id: int, store: Store = Depends(store)):
        return await store.order(id)

    # ANCHOR: events
    @app.get("/events")
    async def updates(request: Request):
        return StreamingResponse(request.app.state.events.stream(), media_type="text/event-stream")
    # ANCHOR_END: events

    @app.get("/demo/panic")
    async def panic():
        raise RuntimeError("a bug in a handler")


def app_from_env():
    """The app for `uvicorn.run(..., factory=True)`: each worker process builds its own."""
    return create_app(os.environ["SHOP_DATABASE"])


def serve(port, workers, scratch):
    """Serves until Ctrl-C: uvicorn on uvloop and httptools, `workers` processes."""
    os.environ["SHOP_DATABASE"] = os.path.join(scratch, "shop.db")
    print(f"serving http://127.0.0.1:{port}", flush=True)
    uvicorn.run("shop_fastapi:app_from_env", factory=True, host="127.0.0.1", port=port,
                workers=workers, loop="uvloop", http="httptools", log_level="warning",
                limit_concurrency=512, timeout_graceful_shutdown=10)


# ANCHOR: serve
async def main():
    with tempfile.TemporaryDirectory() as scratch:
        app = create_app(os.path.join(scratch, "shop.db"))
        config = uvicorn.Config(app, host="127.0.0.1", port=0, log_level="critical",
                                limit_concurrency=512, timeout_keep_alive=10,
                                timeout_graceful_shutdown=10)
        server = uvicorn.Server(config)
        serving = asyncio.create_task(server.serve())
        while not server.started:
            await asyncio.sleep(0.01)
        port = server.servers[0].sockets[0].getsockname()[1]
        await tour(f"http://127.0.0.1:{port}")
        server.should_exit = True  # what Ctrl-C does: finish what is in flight, then stop
        await serving
        print("shutdown: clean")
# ANCHOR_END: serve


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, metavar="PORT", help="serve until Ctrl-C")
    parser.add_argument("--workers", type=int, default=1, help="worker processes (with --serve)")
    args = parser.parse_args()
    if args.serve is not None:
        with tempfile.TemporaryDirectory() as scratch:
            serve(args.serve, args.workers, scratch)
    else:
        asyncio.run(main())
