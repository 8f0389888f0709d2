"""The aiohttp.web shop through aiohttp's test server and client, on a real loopback
socket."""

import pytest
from aiohttp.test_utils import TestClient, TestServer

from shop_aiohttp import create_app


@pytest.fixture
async def client(tmp_path):
    async with TestClient(TestServer(create_app(str(tmp_path / "shop.db")))) as client:
        yield client


async def test_creating_an_item_answers_201_with_its_location(client):
    created = await client.post("/items", json={"name": "teapot", "price_cents": 1250, "stock": 3})
    assert created.status == 201
    assert created.headers["location"] == "/items/1"
    assert await (await client.get("/items/1")).json() == await created.json()


async def test_values_out_of_range_name_each_field(client):
    answer = await client.post("/items", json={"name": "", "price_cents": -1, "stock": 2})
    assert answer.status == 422
    detail = (await answer.json())["detail"]
    assert [e["loc"] for e in detail] == [["body", "name"], ["body", "price_cents"]]


async def test_bad_bodies_are_400_415_and_413(client):
    malformed = await client.post("/items", data='{"name":', headers={"content-type": "application/json"})
    assert malformed.status == 400
    plain = await client.post("/items", data="x", headers={"content-type": "text/plain"})
    assert plain.status == 415
    huge = await client.post("/items", json={"name": "x" * 100_000, "price_cents": 1, "stock": 1})
    assert huge.status == 413


async def test_an_order_takes_stock_all_or_nothing(client):
    await client.post("/items", json={"name": "teapot", "price_cents": 1250, "stock": 3})
    assert (await client.post("/orders", json={"item_id": 1, "quantity": 2})).status == 201
    refused = await client.post("/orders", json={"item_id": 1, "quantity": 2})
    assert refused.status == 409
    assert (await (await client.get("/items/1")).json())["stock"] == 1


async def test_a_handler_bug_is_500_and_the_next_request_is_served(client):
    assert (await (await client.get("/demo/panic")).json()) == {"detail": "internal server error"}
    assert (await client.get("/items")).status == 200


async def test_unknown_routes_and_bad_ids_are_json_errors(client):
    assert (await (await client.get("/nowhere")).json()) == {"detail": "not found"}
    bad = await client.get("/items/seven")
    assert bad.status == 422
