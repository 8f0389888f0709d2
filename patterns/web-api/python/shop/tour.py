"""The demo's client: every route and bad input once, one line each, as the Rust demo
prints them."""

import json

import httpx


def summary(body):
    detail = body.get("detail") if isinstance(body, dict) else None
    if isinstance(detail, list):
        return " ".join(f"field={'.'.join(str(p) for p in e['loc'][1:])} ({e['msg']})" for e in detail)
    if isinstance(detail, str):
        return f'detail="{detail}"'
    return json.dumps(body, separators=(",", ":"))


async def call(client, method, path, **kwargs):
    response = await client.request(method, path, **kwargs)
    location = f" location={response.headers['location']}" if "location" in response.headers else ""
    body = "" if response.status_code == 204 else summary(response.json())
    print(f"{method} {path[:40]} -> {response.status_code}{location} {body}")
    return response


async def tour(base):
    async with httpx.AsyncClient(base_url=base) as client:
        teapot = {"name": "teapot", "price_cents": 1250, "stock": 3}
        await call(client, "POST", "/items", json=teapot)
        await call(client, "POST", "/items", json=teapot)
        await call(client, "POST", "/items", json={"name": "", "price_cents": -1, "stock": 1})
        await call(client, "POST", "/items", json={"name": "cup", "price_cents": "cheap", "stock": 1})
        await call(client, "POST", "/items", json={"name": "cup", "stock": 1})
        await call(client, "POST", "/items", content='{"name": "cup",', headers={"content-type": "application/json"})
        await call(client, "POST", "/items", content="name=cup", headers={"content-type": "text/plain"})
        await call(client, "POST", "/items", json={"name": "x" * 100_000, "price_cents": 1, "stock": 1})
        await call(client, "GET", "/items/1")
        await call(client, "GET", "/items/999")
        await call(client, "GET", "/items?limit=0")
        await call(client, "POST", "/orders", json={"item_id": 1, "quantity": 2})
        await call(client, "POST", "/orders", json={"item_id": 1, "quantity": 2})
        await call(client, "GET", "/nowhere")
        await call(client, "GET", "/demo/panic")
        await call(client, "GET", "/items/1")
        stock = (await client.get("/items/1")).json()["stock"]
        orders = (await client.get("/orders/1")).status_code == 200
        print(f"nothing lost: {str(stock == 1 and orders).lower()}")
