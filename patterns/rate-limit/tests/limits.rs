//! Concurrency bounds seen from the server, rates measured in virtual time, and permits
//! that come back after failures and cancellation.

use std::num::NonZeroU32;
use std::time::Duration;

use fixture_server::FixtureServer;
use rate_limit::{HostLimits, RateLimit, fetch_at_rate, fetch_with_semaphore, fetch_within};
use reqwest::Client;
use tokio::time::Instant;

fn n(value: u32) -> NonZeroU32 {
    NonZeroU32::new(value).unwrap()
}

#[tokio::test(start_paused = true)]
async fn the_semaphore_holds_in_flight_to_its_limit_and_reaches_it() {
    let server = FixtureServer::start().await.unwrap();
    let urls = vec![server.url("/delay/1000"); 30];
    let started = Instant::now();
    let results = fetch_with_semaphore(&Client::new(), &urls, 5).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(server.stats().max_in_flight, 5);
    assert_eq!(
        started.elapsed(),
        Duration::from_secs(6),
        "six waves of five"
    );
}

#[tokio::test(start_paused = true)]
async fn per_host_and_global_limits_both_hold() {
    let (a, b) = (
        FixtureServer::start().await.unwrap(),
        FixtureServer::start().await.unwrap(),
    );
    let mut urls = vec![a.url("/delay/1000"); 8];
    urls.extend(vec![b.url("/delay/1000"); 8]);
    let limits = HostLimits::new(3, 2);
    let started = Instant::now();
    let results = fetch_within(&Client::new(), &urls, &limits).await;
    assert!(results.iter().all(Result::is_ok));
    assert_eq!(
        (a.stats().max_in_flight, b.stats().max_in_flight),
        (2, 2),
        "per host"
    );
    // Two hosts at two each would finish 16 requests in 4 s; the global 3 makes it 6 or more.
    assert!(
        started.elapsed() >= Duration::from_secs(6),
        "{:?}",
        started.elapsed()
    );
    assert_eq!(limits.available(), 3);
}

#[tokio::test(start_paused = true)]
async fn ten_requests_at_five_per_second_take_the_time_the_rate_allows() {
    let server = FixtureServer::start().await.unwrap();
    let urls = vec![server.url("/users/1"); 10];
    let client = Client::new();
    for (burst, expected_ms) in [(1, 1800), (5, 1000)] {
        let rate = RateLimit::new(n(5), n(burst));
        let started = Instant::now();
        let results = fetch_at_rate(&client, &urls, &rate, 10).await;
        assert!(results.iter().all(Result::is_ok));
        // burst 1: one now, then one every 200 ms; burst 5: five now, then one every 200 ms.
        assert_eq!(started.elapsed().as_millis(), expected_ms, "burst {burst}");
    }
}

#[tokio::test(start_paused = true)]
async fn permits_come_back_after_failures_and_after_cancellation() {
    let server = FixtureServer::start().await.unwrap();
    let limits = HostLimits::new(2, 2);
    let failing = vec![server.url("/status/500"); 5];
    let results = fetch_within(&Client::new(), &failing, &limits).await;
    assert!(results.iter().all(Result::is_err));
    assert_eq!(limits.available(), 2, "after failures");

    let slow = vec![server.url("/delay/10000"); 5];
    let client = Client::new();
    let cancelled = tokio::time::timeout(
        Duration::from_millis(100),
        fetch_within(&client, &slow, &limits),
    )
    .await;
    assert!(cancelled.is_err());
    assert_eq!(limits.available(), 2, "after cancellation");
    assert!(limits.acquire("not a url").await.is_err());
}
