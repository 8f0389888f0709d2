//! The middleware, in process: request ids, a panic answered 500 while the next request
//! is served, load shed at the concurrency limit, the request timeout, CORS and gzip.

mod common;

use std::sync::Arc;
use std::sync::atomic::{AtomicUsize, Ordering};
use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use axum::routing::get;
use common::{app_with, get as get_request, post_json, send, shop, teapot};
use tokio::sync::Semaphore;
use utoipa_axum::router::OpenApiRouter;
use web_api::Limits;

#[tokio::test]
async fn every_response_carries_a_request_id_and_a_given_one_is_kept() {
    let shop = shop().await;
    let made = send(&shop.router, get_request("/items")).await;
    let id = made.headers["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");
    let given = Request::get("/items/9")
        .header("x-request-id", "abc-123")
        .body(Body::empty())
        .unwrap();
    let kept = send(&shop.router, given).await;
    assert_eq!(kept.headers["x-request-id"], "abc-123");
    assert_eq!(kept.status, StatusCode::NOT_FOUND, "errors carry it too");
}

async fn boom() -> &'static str {
    panic!("a bug")
}

// ANCHOR: panic
#[tokio::test]
async fn a_panicking_handler_is_500_as_json_and_the_next_request_is_served() {
    let extra = OpenApiRouter::new().route("/boom", get(boom));
    let shop = app_with(&Limits::default(), extra).await;
    let boom = send(&shop.router, get_request("/boom")).await;
    assert_eq!(boom.status, StatusCode::INTERNAL_SERVER_ERROR);
    assert_eq!(
        boom.detail(),
        "internal server error",
        "the panic's message is not sent"
    );
    let next = send(&shop.router, post_json("/items", &teapot(1))).await;
    assert_eq!(next.status, StatusCode::CREATED);
}
// ANCHOR_END: panic

#[tokio::test]
async fn requests_over_the_concurrency_limit_are_shed_with_503_at_once() {
    let (entered, gate) = (Arc::new(AtomicUsize::new(0)), Arc::new(Semaphore::new(0)));
    let limits = Limits {
        concurrency: 2,
        ..Limits::default()
    };
    let shop = app_with(&limits, common::held(entered.clone(), gate.clone())).await;
    let first = tokio::spawn(send_owned(shop.router.clone(), "/held"));
    let second = tokio::spawn(send_owned(shop.router.clone(), "/held"));
    while entered.load(Ordering::SeqCst) < 2 {
        tokio::task::yield_now().await;
    }
    // Two requests hold both places: a third, on another route, is refused at once.
    let shed = send(&shop.router, get_request("/items")).await;
    assert_eq!(
        (shed.status, shed.detail()),
        (
            StatusCode::SERVICE_UNAVAILABLE,
            "the service is busy; try again"
        )
    );
    gate.add_permits(2);
    assert_eq!(first.await.unwrap(), StatusCode::OK);
    assert_eq!(second.await.unwrap(), StatusCode::OK);
    assert_eq!(
        send(&shop.router, get_request("/items")).await.status,
        StatusCode::OK
    );
}

/// The status of a request to `path`, whose body is not JSON.
async fn send_owned(router: axum::Router, path: &'static str) -> StatusCode {
    tower::ServiceExt::oneshot(router, get_request(path))
        .await
        .unwrap()
        .status()
}

#[tokio::test]
async fn a_request_not_answered_in_time_is_408() {
    let extra = OpenApiRouter::new().route(
        "/slow",
        get(|| async {
            tokio::time::sleep(Duration::from_secs(3600)).await;
            "late"
        }),
    );
    let limits = Limits {
        request_timeout: Duration::from_secs(2),
        ..Limits::default()
    };
    let shop = app_with(&limits, extra).await;
    // Paused once the database is open (its driver's thread would race a paused clock).
    tokio::time::pause();
    let started = tokio::time::Instant::now();
    let answer = send(&shop.router, get_request("/slow")).await;
    assert_eq!(
        (answer.status, answer.detail()),
        (StatusCode::REQUEST_TIMEOUT, "request timeout")
    );
    // At the timeout, to the timer's resolution of a millisecond.
    let at = started.elapsed();
    assert!(
        (Duration::from_secs(2)..=Duration::from_millis(2001)).contains(&at),
        "{at:?}"
    );
}

#[tokio::test]
async fn cors_allows_the_listed_origins_only() {
    let limits = Limits {
        allowed_origins: vec!["https://shop.example".parse().unwrap()],
        ..Limits::default()
    };
    let shop = app_with(&limits, OpenApiRouter::new()).await;
    let preflight = |origin: &str| {
        Request::builder()
            .method("OPTIONS")
            .uri("/items")
            .header("origin", origin)
            .header("access-control-request-method", "POST")
            .body(Body::empty())
            .unwrap()
    };
    let allowed = send(&shop.router, preflight("https://shop.example")).await;
    assert_eq!(
        allowed.headers["access-control-allow-origin"],
        "https://shop.example"
    );
    let other = send(&shop.router, preflight("https://evil.example")).await;
    assert!(!other.headers.contains_key("access-control-allow-origin"));
}

#[tokio::test]
async fn a_large_answer_is_gzipped_for_a_client_that_accepts_it() {
    let shop = shop().await;
    for n in 0..20 {
        let item =
            serde_json::json!({"name": format!("item number {n}"), "price_cents": n, "stock": 1});
        send(&shop.router, post_json("/items", &item)).await;
    }
    let request = Request::get("/items")
        .header("accept-encoding", "gzip")
        .body(Body::empty())
        .unwrap();
    let response = tower::ServiceExt::oneshot(shop.router.clone(), request)
        .await
        .unwrap();
    assert_eq!(response.headers()["content-encoding"], "gzip");
    let plain = send(&shop.router, get_request("/items")).await;
    assert!(!plain.headers.contains_key("content-encoding"));
    assert_eq!(plain.body.as_array().unwrap().len(), 20);
}
