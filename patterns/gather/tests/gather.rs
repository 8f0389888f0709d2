//! gather's semantics against the fixture server, under paused time: order, overlap seen
//! from the server, bounds, fail-fast cancellation, and every error collected.

use std::time::Duration;

use cancel_check::DropCounter;
use fixture_server::FixtureServer;
use futures::future::try_join_all;
use gather::{
    Order, Report, fetch, fetch_bounded, fetch_join_all, fetch_join_set, fetch_sequential,
    fetch_try_join_all,
};
use reqwest::Client;
use tokio::time::Instant;

/// `count` URLs whose delays decrease: 1000 ms, 900 ms, ...
fn decreasing(server: &FixtureServer, count: u64) -> Vec<String> {
    (0..count)
        .map(|i| server.url(&format!("/delay/{}", 1000 - 100 * i)))
        .collect()
}

fn indexes<T>(results: &[(usize, T)]) -> Vec<usize> {
    results.iter().map(|(i, _)| *i).collect()
}

#[tokio::test(start_paused = true)]
async fn sequential_takes_the_sum_of_the_delays() {
    let server = FixtureServer::start().await.unwrap();
    let started = Instant::now();
    let results = fetch_sequential(&Client::new(), &decreasing(&server, 3)).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(started.elapsed().as_millis(), 1000 + 900 + 800);
    assert_eq!(server.stats().max_in_flight, 1);
}

#[tokio::test(start_paused = true)]
async fn join_all_overlaps_every_request_and_keeps_input_order() {
    let server = FixtureServer::start().await.unwrap();
    let urls = decreasing(&server, 10);
    let started = Instant::now();
    let results = fetch_join_all(&Client::new(), &urls).await;
    // Ten requests at once: the longest delay, not the sum, and all ten seen in flight.
    assert_eq!(started.elapsed().as_millis(), 1000);
    assert_eq!(server.stats().max_in_flight, 10);
    let bodies: Vec<usize> = results.into_iter().map(Result::unwrap).collect();
    let expected: Vec<usize> = (0..10)
        .map(|i| format!("{{\"delay_ms\":{}}}", 1000 - 100 * i).len())
        .collect();
    assert_eq!(bodies, expected, "input order");
}

#[tokio::test(start_paused = true)]
async fn join_set_overlaps_and_yields_in_completion_order() {
    let server = FixtureServer::start().await.unwrap();
    let started = Instant::now();
    let results = fetch_join_set(&Client::new(), &decreasing(&server, 5)).await;
    assert_eq!(started.elapsed().as_millis(), 1000);
    assert_eq!(server.stats().max_in_flight, 5);
    assert_eq!(
        indexes(&results),
        [4, 3, 2, 1, 0],
        "the shortest delay finishes first"
    );
}

#[tokio::test(start_paused = true)]
async fn buffer_unordered_keeps_exactly_limit_in_flight() {
    let server = FixtureServer::start().await.unwrap();
    let urls: Vec<String> = (0..9).map(|_| server.url("/delay/1000")).collect();
    let started = Instant::now();
    let results = fetch_bounded(&Client::new(), &urls, 3, Order::Completion).await;
    assert_eq!(results.len(), 9);
    assert_eq!(server.stats().max_in_flight, 3, "never more, and reached");
    assert_eq!(started.elapsed().as_millis(), 3000, "three waves of three");
}

#[tokio::test(start_paused = true)]
async fn buffered_keeps_input_order_and_buffer_unordered_does_not() {
    let server = FixtureServer::start().await.unwrap();
    let urls = decreasing(&server, 4);
    let client = Client::new();
    let ordered = fetch_bounded(&client, &urls, 4, Order::Input).await;
    assert_eq!(indexes(&ordered), [0, 1, 2, 3]);
    let unordered = fetch_bounded(&client, &urls, 4, Order::Completion).await;
    assert_eq!(indexes(&unordered), [3, 2, 1, 0]);
}

#[tokio::test(start_paused = true)]
async fn try_join_all_drops_every_other_future_at_the_first_error() {
    let server = FixtureServer::start().await.unwrap();
    let client = Client::new();
    let dropped = DropCounter::new();
    let mut urls = vec![server.url("/status/500")];
    urls.extend((0..5).map(|_| server.url("/delay/10000")));
    let futures = urls.iter().map(|url| {
        let guard = dropped.guard();
        let client = &client;
        async move {
            let _guard = guard;
            fetch(client, url).await
        }
    });
    let started = Instant::now();
    let err = try_join_all(futures).await.unwrap_err();
    assert_eq!(err.error.status().map(|s| s.as_u16()), Some(500));
    assert!(
        started.elapsed() < Duration::from_secs(1),
        "it did not wait for the slow ones"
    );
    assert_eq!(dropped.dropped(), 6, "every future was dropped");
}

#[tokio::test(start_paused = true)]
async fn try_join_all_cancels_the_requests_the_server_was_serving() {
    let server = FixtureServer::start().await.unwrap();
    let mut urls = vec![server.url("/status/500")];
    urls.extend((0..5).map(|_| server.url("/delay/10000")));
    assert!(fetch_try_join_all(&Client::new(), &urls).await.is_err());
    // The five slow requests' connections close long before their ten seconds: only the
    // pooled connection of the finished request may stay open.
    let closed = server.connections_close_to(1, Duration::from_secs(1)).await;
    assert!(closed, "the cancelled requests' connections close");
}

#[tokio::test]
async fn join_all_collects_every_error_with_its_url() {
    let server = FixtureServer::start().await.unwrap();
    let urls = vec![
        server.url("/users/1"),
        server.url("/status/404"),
        server.url("/users/2"),
        server.url("/status/503"),
        "http://127.0.0.1:1/refused".to_owned(),
    ];
    let report = Report::new(&urls, fetch_join_all(&Client::new(), &urls).await);
    assert_eq!(report.to_string(), "2 of 5 collected, 3 failed");
    let failed: Vec<&str> = report.failed.iter().map(|e| e.url.as_str()).collect();
    assert_eq!(
        failed,
        [urls[1].as_str(), urls[3].as_str(), urls[4].as_str()]
    );
    assert_eq!(
        report.failed[0].error.status().map(|s| s.as_u16()),
        Some(404)
    );
    assert!(report.failed[2].error.is_connect());
    assert!(
        report.failed[2].to_string().contains("Connection refused"),
        "{}",
        report.failed[2]
    );
}

#[tokio::test(start_paused = true)]
async fn try_join_fetches_a_fixed_set_of_different_types_at_once() {
    let server = FixtureServer::start().await.unwrap();
    let (user, posts) = gather::user_and_posts(&Client::new(), &server.base_url(), 2)
        .await
        .unwrap();
    assert_eq!(user.name, "Grace Hopper");
    assert_eq!(posts.len(), 10);
    assert!(posts.iter().all(|p| p.user_id == 2));
    let missing = gather::user_and_posts(&Client::new(), &server.base_url(), 99)
        .await
        .unwrap_err();
    assert!(missing.url.ends_with("/users/99"), "{missing}");
    assert_eq!(missing.error.status().map(|s| s.as_u16()), Some(404));
}
