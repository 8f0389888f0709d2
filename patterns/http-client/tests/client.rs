//! Every failure kind against the fixture's fault endpoints, pooling seen from the server,
//! and retries that respect idempotency and a budget.

use std::time::Duration;

use fixture_server::FixtureServer;
use futures::future::join_all;
use http_client::{
    ExponentialBuilder, HttpError, HttpTimeouts, client, get_bytes, get_json, send_with_retry,
    user_and_first_posts,
};
use reqwest::{Client, Method, StatusCode};
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
    let (user, posts) = user_and_first_posts(&Client::new(), &server.base_url(), 1, 5)
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

/// Up to three retries after the first try, 100 ms then 200 then 400 ms apart.
fn backoff() -> ExponentialBuilder {
    ExponentialBuilder::default()
        .with_min_delay(Duration::from_millis(100))
        .with_max_delay(Duration::from_secs(1))
        .with_max_times(3)
}

#[tokio::test(start_paused = true)]
async fn a_get_is_retried_a_post_is_not_and_a_client_error_is_final() {
    let server = FixtureServer::start().await.unwrap();
    let client = Client::new();
    let get = client
        .request(Method::GET, server.url("/status/503"))
        .build()
        .unwrap();
    let started = Instant::now();
    let outcome = send_with_retry(&client, get, backoff()).await;
    assert!(
        matches!(outcome, Err(HttpError::Status { status, .. }) if status == 503),
        "{outcome:?}"
    );
    assert_eq!(
        server.stats().requests,
        4,
        "the first try and three retries"
    );
    // Virtual time: the three waits, plus at most a millisecond of timer rounding each.
    assert_between(started.elapsed(), 100 + 200 + 400, 3);

    server.reset_stats();
    let post = client
        .request(Method::POST, server.url("/status/503"))
        .body("order #1")
        .build()
        .unwrap();
    let outcome = send_with_retry(&client, post, backoff()).await;
    assert!(outcome.is_err(), "{outcome:?}");
    assert_eq!(server.stats().requests, 1, "a POST is sent once");

    server.reset_stats();
    let missing = client
        .request(Method::GET, server.url("/status/404"))
        .build()
        .unwrap();
    let outcome = send_with_retry(&client, missing, backoff()).await;
    assert!(
        matches!(outcome, Err(HttpError::Status { status, .. }) if status == 404),
        "{outcome:?}"
    );
    assert_eq!(server.stats().requests, 1, "a 404 is final");
}

#[tokio::test(start_paused = true)]
async fn retries_stop_when_the_waits_reach_their_total() {
    let server = FixtureServer::start().await.unwrap();
    let client = strict(); // each try times out after 500 ms (its read timeout)
    // Waits of 100, 200 and 400 ms fit in 750 ms; the next one (800 ms) would not.
    let bounded = backoff()
        .with_max_times(10)
        .with_total_delay(Some(Duration::from_millis(750)));
    let started = Instant::now();
    let slow = client
        .request(Method::GET, server.url("/delay/5000"))
        .build()
        .unwrap();
    let outcome = send_with_retry(&client, slow, bounded).await;
    assert!(
        matches!(outcome, Err(HttpError::Timeout { .. })),
        "{outcome:?}"
    );
    assert_eq!(server.stats().requests, 4);
    assert_between(started.elapsed(), 4 * 500 + 700, 7);
}

/// `elapsed` is `ms` milliseconds of virtual time, plus at most `rounding` (tokio's timer
/// rounds each sleep up to the next millisecond).
fn assert_between(elapsed: Duration, ms: u64, rounding: u64) {
    let least = Duration::from_millis(ms);
    assert!(
        elapsed >= least && elapsed <= least + Duration::from_millis(rounding),
        "{elapsed:?}, expected {least:?} (+{rounding} ms)"
    );
}
