//! The OpenAPI document at `/openapi.json`: every route with its methods, every model as
//! a schema, and nothing in it that the server does not answer.

mod common;

use std::collections::BTreeSet;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use common::{get, send, shop};

#[tokio::test]
async fn the_document_lists_every_route_and_schema() {
    let shop = shop().await;
    let document = send(&shop.router, get("/openapi.json")).await;
    assert_eq!(document.status, StatusCode::OK);
    let body = &document.body;
    let mut operations = BTreeSet::new();
    for (path, item) in body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            operations.insert(format!("{} {path}", method.to_uppercase()));
        }
    }
    let expected = [
        "GET /items",
        "POST /items",
        "GET /items/{id}",
        "DELETE /items/{id}",
        "POST /orders",
        "GET /orders/{id}",
        "GET /events",
    ];
    assert_eq!(operations, expected.iter().map(|s| s.to_string()).collect());
    let schemas: BTreeSet<&str> = body["components"]["schemas"]
        .as_object()
        .unwrap()
        .keys()
        .map(String::as_str)
        .collect();
    for model in [
        "Item",
        "NewItem",
        "Order",
        "NewOrder",
        "Update",
        "FieldError",
    ] {
        assert!(schemas.contains(model), "{model} missing from {schemas:?}");
    }
    assert_eq!(
        body["components"]["schemas"]["NewItem"]["properties"]["price_cents"]["minimum"],
        0
    );
}

#[tokio::test]
async fn every_operation_in_the_document_is_answered_by_a_route() {
    let shop = shop().await;
    let document = send(&shop.router, get("/openapi.json")).await;
    for (path, item) in document.body["paths"].as_object().unwrap() {
        for method in item.as_object().unwrap().keys() {
            let uri = path.replace("{id}", "1");
            let request = Request::builder()
                .method(method.to_uppercase().as_str())
                .uri(&uri)
                .header("content-type", "application/json")
                .body(Body::from("{}"))
                .unwrap();
            let response = tower::ServiceExt::oneshot(shop.router.clone(), request)
                .await
                .unwrap();
            let status = response.status();
            // An event stream never ends: its headers are the answer.
            if response.headers()["content-type"] == "text/event-stream" {
                assert_eq!(status, StatusCode::OK);
                continue;
            }
            let bytes = http_body_util::BodyExt::collect(response.into_body())
                .await
                .unwrap()
                .to_bytes();
            let body: serde_json::Value = serde_json::from_slice(&bytes).unwrap();
            // A route that is missing answers 404 "not found" or 405; a handler's own 404
            // names the row ("item 1 not found").
            assert_ne!(status, StatusCode::METHOD_NOT_ALLOWED, "{method} {uri}");
            assert_ne!(body["detail"], "not found", "{method} {uri}");
        }
    }
}
