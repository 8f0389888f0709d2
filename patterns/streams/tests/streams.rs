//! Streams, proved with the fixture's counters and paused time: order, exactly-once,
//! laziness, cancellation, bounded concurrency, errors as items, timeouts and throttling.

use std::time::Duration;

use fixture_server::{FixtureConfig, FixtureServer};
use futures::{Stream, StreamExt};
use reqwest::Client;
use streams::{AsyncRange, fetch_each, items, items_concurrently, range_macro, range_unfold};
use tokio::time::Instant;

const MS: fn(u64) -> Duration = Duration::from_millis;

async fn timed_collect(stream: impl Stream<Item = u64>) -> (Vec<u64>, Duration) {
    let started = Instant::now();
    let items = stream.collect().await;
    (items, started.elapsed())
}

#[tokio::test(start_paused = true)]
async fn the_three_ranges_yield_the_same_items_at_the_same_pace() {
    let expected = (vec![3, 4, 5, 6, 7], MS(500));
    assert_eq!(timed_collect(range_unfold(3, 8, MS(100))).await, expected);
    assert_eq!(timed_collect(range_macro(3, 8, MS(100))).await, expected);
    assert_eq!(
        timed_collect(AsyncRange::new(3, 8, MS(100))).await,
        expected
    );
    assert_eq!(
        timed_collect(AsyncRange::new(5, 5, MS(100))).await,
        (vec![], MS(0)),
        "empty"
    );
}

/// A collection of `items` whose every page takes `page_delay` to answer.
async fn server_with(items: usize, page_delay: Duration) -> FixtureServer {
    FixtureServer::start_with(FixtureConfig {
        items,
        page_delay,
        ..Default::default()
    })
    .await
    .unwrap()
}

#[tokio::test]
async fn the_paginated_stream_yields_every_item_once_in_order_and_stops_after_the_last_page() {
    let server = server_with(95, Duration::ZERO).await;
    let ids: Vec<usize> = items(Client::new(), server.base_url(), 10)
        .map(|item| item.unwrap().id)
        .collect()
        .await;
    assert_eq!(ids, (1..=95).collect::<Vec<_>>());
    assert_eq!(
        server.stats().requests,
        10,
        "ten pages, no request past the last one"
    );
}

#[tokio::test]
async fn nothing_is_fetched_until_polled_and_only_what_is_needed() {
    let server = server_with(100, Duration::ZERO).await;
    let stream = items(Client::new(), server.base_url(), 10);
    assert_eq!(
        server.stats().requests,
        0,
        "building the stream fetched nothing"
    );
    let first_three: Vec<_> = stream.take(3).collect().await;
    assert_eq!(first_three.len(), 3);
    assert_eq!(
        server.stats().requests,
        1,
        "three items of a ten-page collection: one page"
    );
}

#[tokio::test(start_paused = true)]
async fn dropping_the_stream_cancels_its_requests_and_issues_no_more() {
    let server = server_with(100, Duration::from_secs(1)).await;
    let mut stream = Box::pin(items_concurrently(
        Client::new(),
        server.base_url(),
        10,
        3,
        streams::Order::Input,
    ));
    for _ in 0..10 {
        stream.next().await.unwrap().unwrap(); // page 1
    }
    assert_eq!(
        server.stats().requests,
        1,
        "lazy: page 2 is not asked for until item 11 is"
    );
    // Asking for item 11 starts pages 2 to 4; give up before any of them answers.
    cancel_check::drop_pending_after(stream.next(), tokio::time::sleep(MS(100))).await;
    let requested = server.stats().requests;
    assert_eq!(requested, 4);
    drop(stream);
    assert!(
        server.connections_close_to(1, MS(500)).await,
        "the in-flight requests were cancelled"
    );
    tokio::time::sleep(Duration::from_secs(10)).await; // virtual: nothing left to poll anyway
    assert_eq!(
        server.stats().requests,
        requested,
        "no request after the drop"
    );
}

#[tokio::test(start_paused = true)]
async fn pages_fetched_concurrently_keep_the_items_in_order() {
    let server = server_with(100, Duration::from_secs(1)).await;
    let started = Instant::now();
    let ids: Vec<usize> = items_concurrently(
        Client::new(),
        server.base_url(),
        10,
        4,
        streams::Order::Input,
    )
    .map(|item| item.unwrap().id)
    .collect()
    .await;
    assert_eq!(ids, (1..=100).collect::<Vec<_>>());
    // Page 1 alone (1 s), then pages 2 to 10 four at a time (3 s): 4 s, not 10.
    assert_eq!(started.elapsed(), Duration::from_secs(4));
    assert_eq!(server.stats().max_in_flight, 4);
}

#[tokio::test(start_paused = true)]
async fn buffer_unordered_keeps_at_most_n_requests_in_flight() {
    let server = FixtureServer::start().await.unwrap();
    let urls = vec![server.url("/delay/1000"); 9];
    let client = Client::new();
    let started = Instant::now();
    let done = fetch_each(&client, &urls, 3)
        .filter(|(_, r)| std::future::ready(r.is_ok()))
        .count()
        .await;
    assert_eq!(done, 9);
    assert_eq!(server.stats().max_in_flight, 3);
    assert_eq!(started.elapsed(), Duration::from_secs(3));
}

#[tokio::test]
async fn an_error_is_an_item_and_ends_the_stream() {
    let mut stream = Box::pin(items(Client::new(), "http://127.0.0.1:1".into(), 10));
    let first = stream.next().await.expect("one item");
    assert!(first.unwrap_err().is_connect());
    assert!(
        stream.next().await.is_none(),
        "try_unfold stops after an error"
    );
}

#[tokio::test(start_paused = true)]
async fn timeout_and_throttle_from_tokio_stream() {
    // An item slower than the timeout becomes an Err item; the stream goes on.
    let mut slow = Box::pin(tokio_stream::StreamExt::timeout(
        range_unfold(0, 1, MS(500)),
        MS(200),
    ));
    let started = Instant::now();
    assert!(slow.next().await.unwrap().is_err());
    assert_eq!(started.elapsed(), MS(200));
    assert_eq!(slow.next().await.unwrap().ok(), Some(0));
    assert_eq!(started.elapsed(), MS(500));
    // Five instant items throttled to one per 100 ms: the first at once, the fifth at 400 ms,
    // and the end of the stream one more interval later.
    let throttled = || tokio_stream::StreamExt::throttle(futures::stream::iter(0..5), MS(100));
    assert_eq!(
        timed_collect(throttled().take(5)).await,
        (vec![0, 1, 2, 3, 4], MS(400))
    );
    assert_eq!(
        timed_collect(throttled()).await,
        (vec![0, 1, 2, 3, 4], MS(500))
    );
}

#[tokio::test(start_paused = true)]
async fn pages_in_completion_order_still_yield_every_item_once() {
    let server = server_with(100, Duration::from_secs(1)).await;
    let mut ids: Vec<usize> = items_concurrently(
        Client::new(),
        server.base_url(),
        10,
        4,
        streams::Order::Completion,
    )
    .map(|item| item.unwrap().id)
    .collect()
    .await;
    ids.sort_unstable();
    assert_eq!(ids, (1..=100).collect::<Vec<_>>());
    assert_eq!(server.stats().max_in_flight, 4);
}
