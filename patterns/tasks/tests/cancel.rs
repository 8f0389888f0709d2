//! The task functions dropped mid-await: which work stops and which runs on, as each
//! `# Cancel safety` section says. The fixture server's counters are the oracle.

use std::time::Duration;

use fixture_server::FixtureServer;
use patterns_core::Shutdown;
use reqwest::Client;
use tasks::{fetch_in_background, fetch_until_cancelled, run_workers};
use tokio_util::sync::CancellationToken;

const LIMIT: Duration = Duration::from_secs(30);

/// Completes once the server has seen `requests` requests: the moment to drop the work.
async fn requests_reach(server: &FixtureServer, requests: usize) {
    while server.stats().requests < requests {
        tokio::task::yield_now().await;
    }
}

#[tokio::test]
async fn fetch_in_background_dropped_leaves_its_tasks_running() {
    let server = FixtureServer::start().await.unwrap();
    let urls = vec![server.url("/delay/20000"); 3];
    let client = Client::new();
    cancel_check::drop_pending_after(
        fetch_in_background(&client, &urls, std::future::pending::<()>()),
        requests_reach(&server, 3),
    )
    .await;
    // Aborted requests would close their connections at once; detached ones hold them for
    // the 20 s their responses take.
    assert!(
        !server.connections_close_to(0, Duration::from_secs(2)).await,
        "the tasks were stopped, not detached"
    );
    assert_eq!(server.stats().in_flight, 3);
}

#[tokio::test]
async fn fetch_until_cancelled_dropped_skips_its_cleanup() {
    let server = FixtureServer::start().await.unwrap();
    let (url, checkpoint) = (server.url("/delay/20000"), server.url("/status/200"));
    let token = CancellationToken::new();
    let client = Client::new();
    cancel_check::drop_pending_after(
        fetch_until_cancelled("w", &client, &url, &checkpoint, &token),
        requests_reach(&server, 1),
    )
    .await;
    assert!(
        server.connections_close_to(0, LIMIT).await,
        "its request was dropped"
    );
    assert_eq!(
        server.stats().requests,
        1,
        "and no checkpoint request was sent"
    );
}

#[tokio::test]
async fn run_workers_dropped_leaves_the_workers_to_their_shutdown() {
    let server = FixtureServer::start().await.unwrap();
    let (url, checkpoint) = (server.url("/delay/100"), server.url("/status/200"));
    let shutdown = Shutdown::new();
    let client = Client::new();
    cancel_check::drop_pending_after(
        run_workers(&client, &url, &checkpoint, 2, 1, &shutdown, LIMIT),
        requests_reach(&server, 3),
    )
    .await;
    // Still running: more requests keep arriving with nobody awaiting run_workers.
    let before = server.stats().requests;
    let more = async {
        while server.stats().requests < before + 3 {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(LIMIT, more)
        .await
        .expect("the workers run on");
    shutdown.trigger();
    let report = shutdown.shutdown(Duration::from_secs(2)).await;
    assert_eq!(report.aborted, 1, "the stubborn worker needed the abort");
}
