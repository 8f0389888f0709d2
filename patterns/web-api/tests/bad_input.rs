//! Each bad input the API can get, in process: one JSON error naming what is wrong, with
//! the status FastAPI's users expect, and nothing written.

mod common;

use axum::http::StatusCode;
use common::{Answer, count, get, post_json, raw, send, shop, teapot};
use serde_json::json;

/// Sends `request` to a fresh shop holding one item; checks that no item was added.
async fn refused(request: axum::http::Request<axum::body::Body>) -> Answer {
    let shop = shop().await;
    send(&shop.router, post_json("/items", &teapot(3))).await;
    let answer = send(&shop.router, request).await;
    assert!(answer.status.is_client_error(), "{}", answer.status);
    assert_eq!(count(&shop.state, "items").await, 1, "nothing written");
    answer
}

// ANCHOR: field_errors
#[tokio::test]
async fn values_out_of_range_are_422_naming_each_field_and_why() {
    let answer = refused(post_json(
        "/items",
        &json!({"name": "", "price_cents": -1, "stock": 2}),
    ))
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    let name = json!({
        "loc": ["body", "name"],
        "msg": "must be between 1 and 100 characters",
        "type": "length",
    });
    let price = json!({
        "loc": ["body", "price_cents"],
        "msg": "must be between 0 and 100000000",
        "type": "range",
    });
    assert_eq!(answer.body, json!({"detail": [name, price]}));
}
// ANCHOR_END: field_errors

#[tokio::test]
async fn a_wrong_type_is_422_naming_the_field() {
    let answer = refused(post_json(
        "/items",
        &json!({"name": "cup", "price_cents": "cheap", "stock": 1}),
    ))
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.fields(), ["body.price_cents"]);
    assert_eq!(answer.body["detail"][0]["type"], "type");
    let msg = answer.body["detail"][0]["msg"].as_str().unwrap();
    assert!(
        msg.starts_with("invalid type: string \"cheap\", expected i64"),
        "{msg}"
    );
}

#[tokio::test]
async fn a_missing_field_is_422_naming_it() {
    let answer = refused(post_json("/items", &json!({"name": "cup", "stock": 1}))).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(
        answer.body,
        json!({"detail": [{"loc": ["body", "price_cents"], "msg": "field required", "type": "missing"}]})
    );
}

#[tokio::test]
async fn a_body_that_is_not_json_is_400_saying_where() {
    let answer = refused(raw(
        "POST",
        "/items",
        "application/json",
        "{\"name\": \"cup\",",
    ))
    .await;
    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert_eq!(
        answer.detail(),
        "the body is not valid JSON: EOF while parsing a value at line 1 column 15"
    );
}

#[tokio::test]
async fn a_body_that_is_not_an_object_is_422() {
    // serde reads a struct from an array by position: the first element is `name`.
    let answer = refused(post_json("/items", &json!([1, 2]))).await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.fields(), ["body.0"]);
    assert_eq!(
        answer.body["detail"][0]["msg"],
        "invalid type: integer `1`, expected a string"
    );
    let number = refused(post_json("/items", &json!(7))).await;
    assert_eq!(number.fields(), ["body"]);
    assert_eq!(
        number.body["detail"][0]["msg"],
        "invalid type: integer `7`, expected struct NewItem"
    );
}

#[tokio::test]
async fn the_wrong_content_type_is_415() {
    for kind in ["text/plain", "application/x-www-form-urlencoded", ""] {
        let answer = refused(raw("POST", "/items", kind, teapot(1).to_string())).await;
        assert_eq!(
            answer.status,
            StatusCode::UNSUPPORTED_MEDIA_TYPE,
            "{kind:?}"
        );
        assert_eq!(answer.detail(), "expected Content-Type: application/json");
    }
}

#[tokio::test]
async fn a_body_over_the_limit_is_413() {
    let huge = json!({"name": "x".repeat(100_000), "price_cents": 1, "stock": 1});
    let answer = refused(post_json("/items", &huge)).await;
    assert_eq!(answer.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert_eq!(answer.detail(), "payload too large");
}

#[tokio::test]
async fn an_unknown_route_is_404_and_a_wrong_method_405_both_as_json() {
    let unknown = refused(get("/nowhere")).await;
    assert_eq!(
        (unknown.status, unknown.detail()),
        (StatusCode::NOT_FOUND, "not found")
    );
    let wrong = refused(raw("PUT", "/items", "application/json", "{}")).await;
    assert_eq!(
        (wrong.status, wrong.detail()),
        (StatusCode::METHOD_NOT_ALLOWED, "method not allowed")
    );
    assert_eq!(wrong.headers["allow"], "GET,HEAD,POST");
}

#[tokio::test]
async fn a_path_id_that_overflows_or_is_not_a_number_is_422_naming_it() {
    for (path, value) in [
        ("/items/99999999999999999999", "99999999999999999999"),
        ("/orders/seven", "seven"),
    ] {
        let answer = refused(get(path)).await;
        assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY, "{path}");
        assert_eq!(
            answer.body,
            json!({"detail": [{"loc": ["path", "id"], "msg": format!("{value:?} is not a valid i64"), "type": "type"}]})
        );
    }
}

#[tokio::test]
async fn a_bad_page_is_422_naming_the_parameter() {
    let zero = refused(get("/items?limit=0")).await;
    assert_eq!(zero.fields(), ["query.limit"]);
    assert_eq!(zero.body["detail"][0]["msg"], "must be between 1 and 100");
    let word = refused(get("/items?offset=many")).await;
    assert_eq!(word.fields(), ["query.offset"]);
    assert_eq!(
        word.body["detail"][0]["msg"],
        "invalid digit found in string"
    );
}

#[tokio::test]
async fn an_order_out_of_range_is_422_and_takes_nothing() {
    let shop = shop().await;
    send(&shop.router, post_json("/items", &teapot(3))).await;
    let answer = send(
        &shop.router,
        post_json("/orders", &json!({"item_id": 0, "quantity": 1001})),
    )
    .await;
    assert_eq!(answer.status, StatusCode::UNPROCESSABLE_ENTITY);
    assert_eq!(answer.fields(), ["body.item_id", "body.quantity"]);
    assert_eq!(count(&shop.state, "orders").await, 0);
    assert_eq!(send(&shop.router, get("/items/1")).await.body["stock"], 3);
}
