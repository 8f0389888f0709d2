"""The FastAPI shop through FastAPI's TestClient: the requests never touch a socket, as
`tower::ServiceExt::oneshot` does for the Rust router."""

import pytest
from fastapi.testclient import TestClient

from shop_fastapi import create_app


@pytest.fixture
def client(tmp_path):
    # ANCHOR: test_client
    with TestClient(create_app(str(tmp_path / "shop.db"))) as client:  # runs the lifespan
        yield client
    # ANCHOR_END: test_client


def test_creating_an_item_answers_201_with_its_location(client):
    created = client.post("/items", json={"name": "teapot", "price_cents": 1250, "stock": 3})
    assert created.status_code == 201
    assert created.headers["location"] == "/items/1"
    assert client.get("/items/1").json() == created.json()


def test_values_out_of_range_name_each_field(client):
    answer = client.post("/items", json={"name": "", "price_cents": -1, "stock": 2})
    assert answer.status_code == 422
    assert [e["loc"] for e in answer.json()["detail"]] == [["body", "name"], ["body", "price_cents"]]


def test_a_missing_field_and_a_wrong_type_are_422(client):
    missing = client.post("/items", json={"name": "cup", "stock": 1})
    assert missing.json()["detail"][0]["type"] == "missing"
    wrong = client.post("/items", json={"name": "cup", "price_cents": "cheap", "stock": 1})
    assert wrong.json()["detail"][0]["loc"] == ["body", "price_cents"]


def test_bad_bodies_are_400_415_and_413(client):
    malformed = client.post("/items", content='{"name":', headers={"content-type": "application/json"})
    assert malformed.status_code == 400
    assert client.post("/items", content="x", headers={"content-type": "text/plain"}).status_code == 415
    huge = {"name": "x" * 100_000, "price_cents": 1, "stock": 1}
    assert client.post("/items", json=huge).status_code == 413


def test_an_order_takes_stock_all_or_nothing(client):
    client.post("/items", json={"name": "teapot", "price_cents": 1250, "stock": 3})
    placed = client.post("/orders", json={"item_id": 1, "quantity": 2})
    assert placed.status_code == 201
    assert placed.json()["total_cents"] == 2500
    refused = client.post("/orders", json={"item_id": 1, "quantity": 2})
    assert (refused.status_code, refused.json()["detail"]) == (409, "item 1 has 1 in stock")
    assert client.get("/items/1").json()["stock"] == 1


def test_a_handler_bug_is_500_and_the_next_request_is_served(tmp_path):
    with TestClient(create_app(str(tmp_path / "shop.db")), raise_server_exceptions=False) as client:
        assert client.get("/demo/panic").json() == {"detail": "internal server error"}
        assert client.get("/items").status_code == 200


def test_every_response_carries_a_request_id(client):
    assert len(client.get("/items").headers["x-request-id"]) == 36
    assert client.get("/items", headers={"x-request-id": "abc"}).headers["x-request-id"] == "abc"


def test_the_openapi_document_lists_every_route(client):
    paths = client.get("/openapi.json").json()["paths"]
    assert {"/items", "/items/{id}", "/orders", "/orders/{id}", "/events"} <= set(paths)
