//! Every route, in process: the router is called as a tower `Service` with `oneshot`, no
//! socket involved (FastAPI's `TestClient`). Statuses, `Location`, bodies, and what the
//! database holds afterwards.

mod common;

use axum::http::StatusCode;
use common::{count, get, post_json, raw, send, shop, teapot};
use serde_json::json;

// ANCHOR: oneshot
#[tokio::test]
async fn creating_an_item_answers_201_with_its_location_and_stores_it() {
    let shop = shop().await;
    let created = send(&shop.router, post_json("/items", &teapot(3))).await;
    assert_eq!(created.status, StatusCode::CREATED);
    assert_eq!(created.headers["location"], "/items/1");
    assert_eq!(
        created.body,
        json!({"id": 1, "name": "teapot", "price_cents": 1250, "stock": 3})
    );
    let fetched = send(&shop.router, get("/items/1")).await;
    assert_eq!(fetched.status, StatusCode::OK);
    assert_eq!(fetched.body, created.body);
}
// ANCHOR_END: oneshot

#[tokio::test]
async fn a_taken_name_is_409_and_stores_nothing() {
    let shop = shop().await;
    send(&shop.router, post_json("/items", &teapot(3))).await;
    let again = send(&shop.router, post_json("/items", &teapot(9))).await;
    assert_eq!(again.status, StatusCode::CONFLICT);
    assert_eq!(again.detail(), "an item named \"teapot\" exists");
    assert_eq!(count(&shop.state, "items").await, 1);
}

#[tokio::test]
async fn a_missing_item_or_order_is_404_with_a_detail() {
    let shop = shop().await;
    let item = send(&shop.router, get("/items/7")).await;
    assert_eq!(
        (item.status, item.detail()),
        (StatusCode::NOT_FOUND, "item 7 not found")
    );
    let order = send(&shop.router, get("/orders/7")).await;
    assert_eq!(
        (order.status, order.detail()),
        (StatusCode::NOT_FOUND, "order 7 not found")
    );
}

#[tokio::test]
async fn items_are_listed_by_id_a_page_at_a_time() {
    let shop = shop().await;
    for n in 0..5 {
        let item = json!({"name": format!("item {n}"), "price_cents": n, "stock": 1});
        send(&shop.router, post_json("/items", &item)).await;
    }
    let page = send(&shop.router, get("/items?limit=2&offset=1")).await;
    assert_eq!(page.status, StatusCode::OK);
    let ids: Vec<i64> = page
        .body
        .as_array()
        .unwrap()
        .iter()
        .map(|i| i["id"].as_i64().unwrap())
        .collect();
    assert_eq!(ids, [2, 3]);
    let all = send(&shop.router, get("/items")).await;
    assert_eq!(
        all.body.as_array().unwrap().len(),
        5,
        "the default page holds 20"
    );
}

#[tokio::test]
async fn an_order_takes_its_quantity_from_the_stock_all_or_nothing() {
    let shop = shop().await;
    send(&shop.router, post_json("/items", &teapot(3))).await;
    let placed = send(
        &shop.router,
        post_json("/orders", &json!({"item_id": 1, "quantity": 2})),
    )
    .await;
    assert_eq!(placed.status, StatusCode::CREATED);
    assert_eq!(placed.headers["location"], "/orders/1");
    assert_eq!(
        placed.body,
        json!({"id": 1, "item_id": 1, "quantity": 2, "total_cents": 2500})
    );
    let refused = send(
        &shop.router,
        post_json("/orders", &json!({"item_id": 1, "quantity": 2})),
    )
    .await;
    assert_eq!(refused.status, StatusCode::CONFLICT);
    assert_eq!(refused.detail(), "item 1 has 1 in stock");
    let missing = send(
        &shop.router,
        post_json("/orders", &json!({"item_id": 9, "quantity": 1})),
    )
    .await;
    assert_eq!(missing.status, StatusCode::NOT_FOUND);
    assert_eq!(count(&shop.state, "orders").await, 1);
    let item = send(&shop.router, get("/items/1")).await;
    assert_eq!(item.body["stock"], 1);
    let order = send(&shop.router, get("/orders/1")).await;
    assert_eq!(order.body, placed.body);
}

#[tokio::test]
async fn deleting_answers_204_then_404_and_an_ordered_item_stays() {
    let shop = shop().await;
    send(&shop.router, post_json("/items", &teapot(3))).await;
    send(
        &shop.router,
        post_json(
            "/items",
            &json!({"name": "cup", "price_cents": 5, "stock": 1}),
        ),
    )
    .await;
    send(
        &shop.router,
        post_json("/orders", &json!({"item_id": 1, "quantity": 1})),
    )
    .await;
    let ordered = send(
        &shop.router,
        raw("DELETE", "/items/1", "application/json", ""),
    )
    .await;
    assert_eq!(
        (ordered.status, ordered.detail()),
        (StatusCode::CONFLICT, "item 1 has orders")
    );
    let deleted = send(
        &shop.router,
        raw("DELETE", "/items/2", "application/json", ""),
    )
    .await;
    assert_eq!(deleted.status, StatusCode::NO_CONTENT);
    assert!(deleted.body.is_null());
    let again = send(
        &shop.router,
        raw("DELETE", "/items/2", "application/json", ""),
    )
    .await;
    assert_eq!(again.status, StatusCode::NOT_FOUND);
    assert_eq!(count(&shop.state, "items").await, 1);
}
