//! Every failure kind against the fixture's fault endpoints, pooling seen from the server,
//! and retries that respect idempotency and a budget.

use std::time::Duration;

use fixture_server::FixtureServer;
use futures::future::join_all;
use http_client::{
    HttpError, HttpTimeouts, client, get_bytes, get_json, send_with_retry, user_and_posts,
};
use reqwest::{Client, Method, StatusCode};
use timeout::{Backoff, RetryError};
use tokio::time::Instant;

fn strict() -> Client {
    client(HttpTimeouts {
        connect: Duration::from_millis(500),
        read: Duration::from_millis(500),
        total: Duration::from_millis(800),
    })
    .unwrap()
}

#[tokio::test(start_paused = true)]
async fn every_failure_kind_is_its_own_error_with_its_url_and_none_stops_the_others() {
    let server = FixtureServer::start().await.unwrap();
    let urls = [
        server.url("/users/1"),
        "http://exa mple.com/".to_owned(),
        "http://no-such-host.invalid/".to_owned(),
        "http://127.0.0.1:1/".to_owned(),
        server.url("/delay/5000"),
        server.url("/status/503"),
        server.url("/fault/drop"),
        server.url("/fault/invalid-json"),
        server.url("/users/2"),
    ];
    let client = strict();
    let results = join_all(
        urls.iter()
            .map(|url| get_json::<serde_json::Value>(&client, url)),
    )
    .await;
    assert!(
        results[0].is_ok() && results[8].is_ok(),
        "the good ones succeed: {results:?}"
    );
    let failures: Vec<&HttpError> = results.iter().filter_map(|r| r.as_ref().err()).collect();
    assert_eq!(failures.len(), 7);
    for (error, url) in failures.iter().zip(&urls[1..8]) {
        assert_eq!(error.url(), url);
        assert!(error.to_string().starts_with(url.as_str()), "{error}");
    }
    assert!(
        matches!(failures[0], HttpError::InvalidUrl { .. }),
        "{}",
        failures[0]
    );
    assert!(
        matches!(failures[1], HttpError::Dns { .. }),
        "{}",
        failures[1]
    );
    assert!(
        matches!(failures[2], HttpError::Refused { .. }),
        "{}",
        failures[2]
    );
    assert!(
        matches!(failures[3], HttpError::Timeout { .. }),
        "{}",
        failures[3]
    );
    assert!(
        matches!(failures[4], HttpError::Status { status, .. } if *status == StatusCode::SERVICE_UNAVAILABLE)
    );
    assert!(
        matches!(failures[5], HttpError::BodyCut { .. }),
        "{}",
        failures[5]
    );
    assert!(
        matches!(failures[6], HttpError::InvalidJson { .. }),
        "{}",
        failures[6]
    );
}

#[tokio::test]
async fn typed_json_fetches_a_user_and_five_posts() {
    let server = FixtureServer::start().await.unwrap();
    let (user, posts) = user_and_posts(&Client::new(), &server.base_url(), 1, 5)
        .await
        .unwrap();
    assert_eq!(user.email, "ada.lovelace@example.com");
    assert_eq!(
        posts.iter().map(|p| p.id).collect::<Vec<_>>(),
        [1, 2, 3, 4, 5]
    );
    assert_eq!(server.stats().requests, 6);
}

#[tokio::test]
async fn one_shared_client_reuses_connections_a_client_per_request_does_not() {
    let server = FixtureServer::start().await.unwrap();
    let url = server.url("/users/1");
    let shared = Client::new();
    for _ in 0..10 {
        get_bytes(&shared, &url).await.unwrap();
    }
    assert_eq!(
        (server.stats().requests, server.stats().connections),
        (10, 1)
    );
    server.reset_stats();
    for _ in 0..10 {
        get_bytes(&Client::new(), &url).await.unwrap();
    }
    assert_eq!(
        (server.stats().requests, server.stats().connections),
        (10, 10)
    );
}

fn policy() -> Backoff {
    Backoff {
        attempts: 4,
        first: Duration::from_millis(100),
        max_delay: Duration::from_secs(1),
        budget: Duration::from_secs(10),
        jitter: false,
    }
}

#[tokio::test(start_paused = true)]
async fn a_get_is_retried_a_post_is_not_and_a_client_error_is_final() {
    let server = FixtureServer::start().await.unwrap();
    let client = Client::new();
    let get = client
        .request(Method::GET, server.url("/status/503"))
        .build()
        .unwrap();
    let outcome = send_with_retry(&client, get, &policy()).await;
    assert!(
        matches!(outcome, Err(RetryError::Exhausted { attempts: 4, .. })),
        "{outcome:?}"
    );
    assert_eq!(server.stats().requests, 4);

    server.reset_stats();
    let post = client
        .request(Method::POST, server.url("/status/503"))
        .body("order #1")
        .build()
        .unwrap();
    let outcome = send_with_retry(&client, post, &policy()).await;
    assert!(
        matches!(outcome, Err(RetryError::Exhausted { attempts: 1, .. })),
        "{outcome:?}"
    );
    assert_eq!(server.stats().requests, 1, "a POST is sent once");

    server.reset_stats();
    let missing = client
        .request(Method::GET, server.url("/status/404"))
        .build()
        .unwrap();
    let outcome = send_with_retry(&client, missing, &policy()).await;
    assert!(
        matches!(outcome, Err(RetryError::Fatal { attempts: 1, .. })),
        "{outcome:?}"
    );
}

#[tokio::test(start_paused = true)]
async fn retries_stop_at_the_budget() {
    let server = FixtureServer::start().await.unwrap();
    let client = strict(); // each try times out after 800 ms
    let budget = Backoff {
        attempts: 10,
        budget: Duration::from_secs(2),
        ..policy()
    };
    let started = Instant::now();
    let slow = client
        .request(Method::GET, server.url("/delay/5000"))
        .build()
        .unwrap();
    let outcome = send_with_retry(&client, slow, &budget).await;
    assert!(
        matches!(outcome, Err(RetryError::OutOfTime { .. })),
        "{outcome:?}"
    );
    assert!(started.elapsed() <= Duration::from_secs(2));
}
