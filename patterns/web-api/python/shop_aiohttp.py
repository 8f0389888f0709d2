"""The shop API in aiohttp.web: routes, a middleware for errors, cleanup_ctx for the
lifespan, json_response and a streamed response for Server-Sent Events. The same API as
shop_fastapi.py and `cargo run -p web-api`; its tests are test_shop_aiohttp.py.

    python patterns/web-api/python/shop_aiohttp.py            # the scripted tour, then exit
    python patterns/web-api/python/shop_aiohttp.py --serve 8000 --loop uvloop
"""

import argparse
import asyncio
import json
import os
import tempfile
import uuid

import uvloop
from aiohttp import web

from shop.store import Conflict, Events, NotFound, Store, publish_summaries
from shop.tour import tour

MAX_BODY = 64 * 1024
routes = web.RouteTableDef()
STORE = web.AppKey("store", Store)
EVENTS = web.AppKey("events", Events)
DATABASE = web.AppKey("database", str)


class Invalid(Exception):
    """422: the request does not fit its model; `detail` lists each field."""

    def __init__(self, detail):
        super().__init__("invalid")
        self.detail = detail


def field(part, name, msg, kind):
    return {"loc": [part, name], "msg": msg, "type": kind}


# ANCHOR: validate
def checked_int(part, data, name, low, high, default=None):
    """Reads `name` as an int in [low, high], or says why not: the checks pydantic makes."""
    if name not in data:
        if default is not None:
            return default, None
        return None, field(part, name, "field required", "missing")
    value = data[name]
    if isinstance(value, str) and part == "query":
        try:
            value = int(value)
        except ValueError:
            return None, field(part, name, "not an integer", "type")
    if not isinstance(value, int) or isinstance(value, bool):
        return None, field(part, name, "not an integer", "type")
    if not low <= value <= high:
        return None, field(part, name, f"must be between {low} and {high}", "range")
    return value, None


async def json_body(request):
    if request.content_type != "application/json":
        raise web.HTTPUnsupportedMediaType(text="expected Content-Type: application/json")
    try:
        data = await request.json()
    except json.JSONDecodeError:
        raise web.HTTPBadRequest(text="the body is not valid JSON")
    if not isinstance(data, dict):
        raise Invalid([{"loc": ["body"], "msg": "not an object", "type": "type"}])
    return data


def new_item(data):
    errors = []
    name = data.get("name")
    if not isinstance(name, str):
        errors.append(field("body", "name", "field required" if name is None else "not a string",
                            "missing" if name is None else "type"))
    elif not 1 <= len(name) <= 100:
        errors.append(field("body", "name", "must be between 1 and 100 characters", "length"))
    price, error = checked_int("body", data, "price_cents", 0, 100_000_000)
    errors += [error] if error else []
    stock, error = checked_int("body", data, "stock", 0, 1_000_000)
    errors += [error] if error else []
    if errors:
        raise Invalid(errors)
    return name, price, stock
# ANCHOR_END: validate


# ANCHOR: middleware
@web.middleware
async def json_errors(request, handler):
    """Every error as `{"detail": ...}`: aiohttp's own HTTP errors, the store's, a bug's."""
    request_id = request.headers.get("x-request-id") or str(uuid.uuid4())
    try:
        response = await handler(request)
    except Invalid as error:
        response = web.json_response({"detail": error.detail}, status=422)
    except NotFound as error:
        response = web.json_response({"detail": str(error)}, status=404)
    except Conflict as error:
        response = web.json_response({"detail": str(error)}, status=409)
    except web.HTTPException as error:
        if error.status < 400:
            raise
        detail = error.text if error.text and not error.text.startswith(f"{error.status}:") else error.reason.lower()
        response = web.json_response({"detail": detail}, status=error.status)
    except Exception:
        response = web.json_response({"detail": "internal server error"}, status=500)
    response.headers["x-request-id"] = request_id
    return response
# ANCHOR_END: middleware


@routes.post("/items")
async def create_item(request):
    name, price, stock = new_item(await json_body(request))
    item = await request.app[STORE].create_item(name, price, stock)
    return web.json_response(item, status=201, headers={"location": f"/items/{item['id']}"})


@routes.get("/items")
async def list_items(request):
    limit, error = checked_int("query", request.query, "limit", 1, 100, default=20)
    offset, error2 = checked_int("query", request.query, "offset", 0, 2**63 - 1, default=0)
    errors = [e for e in (error, error2) if e]
    if errors:
        raise Invalid(errors)
    return web.json_response(await request.app[STORE].items(limit, offset))


def path_id(request):
    try:
        return int(request.match_info["id"])
    except ValueError:
        raise Invalid([field("path", "id", "not an integer", "type")])


@routes.get("/items/{id}")
async def get_item(request):
    return web.json_response(await request.app[STORE].item(path_id(request)))


@routes.delete("/items/{id}")
async def delete_item(request):
    await request.app[STORE].delete_item(path_id(request))
    return web.Response(status=204)


@routes.post("/orders")
async def create_order(request):
    data = await json_body(request)
    item_id, error = checked_int("body", data, "item_id", 1, 2**63 - 1)
    quantity, error2 = checked_int("body", data, "quantity", 1, 1_000)
    errors = [e for e in (error, error2) if e]
    if errors:
        raise Invalid(errors)
    order, stock_left = await request.app[STORE].place_order(item_id, quantity)
    request.app[EVENTS].publish({"type": "order_placed", "order": order, "stock_left": stock_left})
    return web.json_response(order, status=201, headers={"location": f"/orders/{order['id']}"})


@routes.get("/orders/{id}")
async def get_order(request):
    return web.json_response(await request.app[STORE].order(path_id(request)))


# ANCHOR: events
@routes.get("/events")
async def updates(request):
    response = web.StreamResponse(headers={"content-type": "text/event-stream"})
    await response.prepare(request)
    async for event in request.app[EVENTS].stream():
        await response.write(event.encode())
    return response
# ANCHOR_END: events


@routes.get("/demo/panic")
async def panic(request):
    raise RuntimeError("a bug in a handler")


# ANCHOR: cleanup_ctx
async def lifespan(app):
    app[STORE] = await Store.open(app[DATABASE])
    app[EVENTS] = Events()
    summaries = asyncio.create_task(publish_summaries(app[STORE], app[EVENTS], 30.0))
    yield
    app[EVENTS].stopping.set()
    summaries.cancel()
    await asyncio.gather(summaries, return_exceptions=True)
    await app[STORE].close()


def create_app(database):
    app = web.Application(middlewares=[json_errors], client_max_size=MAX_BODY)
    app[DATABASE] = database
    app.cleanup_ctx.append(lifespan)
    app.add_routes(routes)
    return app
# ANCHOR_END: cleanup_ctx


# ANCHOR: serve
async def main():
    with tempfile.TemporaryDirectory() as scratch:
        runner = web.AppRunner(create_app(os.path.join(scratch, "shop.db")), shutdown_timeout=10)
        await runner.setup()
        site = web.TCPSite(runner, "127.0.0.1", 0)
        await site.start()
        port = runner.addresses[0][1]
        await tour(f"http://127.0.0.1:{port}")
        await runner.cleanup()  # stops accepting, lets requests finish, runs cleanup_ctx
        print("shutdown: clean")
# ANCHOR_END: serve


if __name__ == "__main__":
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--serve", type=int, metavar="PORT", help="serve until Ctrl-C")
    parser.add_argument("--loop", choices=["asyncio", "uvloop"], default="asyncio")
    args = parser.parse_args()
    if args.serve is not None:
        with tempfile.TemporaryDirectory() as scratch:
            print(f"serving http://127.0.0.1:{args.serve}", flush=True)
            loop = uvloop.new_event_loop() if args.loop == "uvloop" else asyncio.new_event_loop()
            web.run_app(create_app(os.path.join(scratch, "shop.db")), host="127.0.0.1",
                        port=args.serve, print=None, access_log=None, loop=loop)
    else:
        asyncio.run(main())
