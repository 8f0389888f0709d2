//! The limiters dropped mid-await: permits and slots come back, no start is taken by a
//! waiter that gave up, and dropped requests close their connections.

use std::num::NonZeroU32;
use std::time::Duration;

use fixture_server::FixtureServer;
use futures::FutureExt;
use rate_limit::{HostLimits, RateLimit, fetch_at_rate, fetch_with_semaphore, fetch_within};
use tokio::time::sleep;

const LIMIT: Duration = Duration::from_secs(30);

#[tokio::test(start_paused = true)]
async fn acquire_dropped_while_waiting_for_the_global_slot_gives_back_its_host_permit() {
    let limits = HostLimits::new(1, 1);
    let held = limits.acquire("http://a.example/").await.unwrap();
    // b's host permit is free, the global slot is not: this waits holding b's permit.
    cancel_check::drop_pending_after(
        limits.acquire("http://b.example/"),
        tokio::time::sleep(LIMIT),
    )
    .await;
    drop(held);
    let again = limits.acquire("http://b.example/").now_or_never();
    assert!(
        again.is_some(),
        "b's host permit came back with the dropped acquire"
    );
}

#[tokio::test(start_paused = true)]
async fn until_ready_dropped_while_waiting_takes_no_start() {
    let rate = RateLimit::new(NonZeroU32::MIN, NonZeroU32::MIN); // one a second
    rate.until_ready().await;
    cancel_check::drop_pending_after(
        rate.until_ready(),
        tokio::time::sleep(Duration::from_millis(500)),
    )
    .await;
    sleep(Duration::from_millis(500)).await; // one second after the first start
    assert!(
        rate.until_ready().now_or_never().is_some(),
        "the start is there: the dropped waiter did not take it"
    );
}

#[tokio::test]
async fn every_limited_fetch_dropped_mid_request_closes_its_connections() {
    let server = FixtureServer::start().await.unwrap();
    let client = reqwest::Client::new();
    let urls = vec![server.url("/delay/20000"); 4];
    let limits = HostLimits::new(3, 3);
    let rate = RateLimit::new(NonZeroU32::new(1000).unwrap(), NonZeroU32::new(4).unwrap());
    let drops = [
        (
            "fetch_with_semaphore",
            server
                .drop_once_connected(fetch_with_semaphore(&client, &urls, 2), 2, LIMIT)
                .await,
        ),
        (
            "fetch_within",
            server
                .drop_once_connected(fetch_within(&client, &urls, &limits), 3, LIMIT)
                .await,
        ),
        (
            "fetch_at_rate",
            server
                .drop_once_connected(fetch_at_rate(&client, &urls, &rate, 4), 4, LIMIT)
                .await,
        ),
    ];
    FixtureServer::assert_all_dropped_cleanly(drops);
    assert_eq!(limits.available(), 3, "every slot came back");
}
