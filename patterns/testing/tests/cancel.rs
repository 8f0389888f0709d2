//! Cancellation, deadlines and panics: each public async fn dropped at a chosen point, with
//! what it promised to release or finish; a hung origin caught by a deadline; a panic in a
//! spawned task surfacing where a test sees it.

mod common;

use std::sync::Arc;
use std::time::Duration;

use common::{ScriptedOrigin, Step, calls};
use testing::{Client, LookupError, Policy, Reply, UserCache, serve, serve_connection};
use tokio::io::{AsyncBufReadExt, AsyncWriteExt, BufReader};
use tokio::sync::Notify;
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

const SHORT: Duration = Duration::from_millis(10);

// ANCHOR: dropped_get
#[tokio::test(start_paused = true)]
async fn a_dropped_lookup_still_fills_the_cache() {
    let origin = ScriptedOrigin::answering(Duration::from_secs(1));
    let fetched = origin.calls();
    let cache = UserCache::new(origin, Policy::default());

    cancel_check::drop_pending_after(cache.get(1), tokio::time::sleep(SHORT)).await; // cut short mid-fetch
    tokio::time::sleep(Duration::from_secs(2)).await; // the fetch's own task finishes
    cache.get(1).await.unwrap();

    assert_eq!(calls(&fetched), 1);
    assert_eq!(cache.stats().hits, 1);
}
// ANCHOR_END: dropped_get

#[tokio::test(start_paused = true)]
async fn a_lookup_joining_a_fetch_can_be_dropped_without_disturbing_the_others() {
    let origin = ScriptedOrigin::answering(Duration::from_secs(1));
    let fetched = origin.calls();
    let cache = UserCache::new(origin, Policy::default());
    let first = tokio::spawn({
        let cache = cache.clone();
        async move { cache.get(1).await }
    });
    tokio::task::yield_now().await;
    cancel_check::drop_pending_after(cache.get(1), tokio::time::sleep(SHORT)).await;
    assert_eq!(first.await.unwrap().unwrap().id, 1);
    assert_eq!(calls(&fetched), 1);
    assert_eq!(cache.stats().joined, 1);
}

// ANCHOR: deadline
#[tokio::test(start_paused = true)]
async fn a_hung_origin_is_cut_by_the_attempt_timeout_and_the_id_is_not_stuck() {
    let origin = ScriptedOrigin::new(Duration::ZERO, |_, call| match call {
        1..=3 => Step::Hang,
        _ => Step::Answer,
    });
    let fetched = origin.calls();
    let policy = Policy {
        attempt_timeout: Duration::from_secs(1),
        ..Policy::default()
    };
    let cache = UserCache::new(origin, policy);
    // the test's own deadline: if the cache hung, this fails instead of hanging the suite
    let error = timeout(Duration::from_secs(60), cache.get(1))
        .await
        .expect("the cache gave up by itself")
        .unwrap_err();
    assert_eq!(
        error,
        LookupError::Transient("no answer within 1000 ms".into())
    );
    assert_eq!(calls(&fetched), 3);
    assert_eq!(
        cache.get(1).await.unwrap().id,
        1,
        "the next lookup fetches again"
    );
}
// ANCHOR_END: deadline

// ANCHOR: panics
#[tokio::test(start_paused = true)]
async fn a_panicking_origin_is_an_error_for_every_waiter_and_the_next_lookup_retries() {
    let origin = ScriptedOrigin::new(Duration::from_millis(5), |_, call| match call {
        1 => Step::Panic,
        _ => Step::Answer,
    });
    let cache = UserCache::new(origin, Policy::default());
    let (a, b) = tokio::join!(cache.get(1), cache.get(1));
    for outcome in [a, b] {
        let error = outcome.unwrap_err();
        assert_eq!(
            error,
            LookupError::Panicked("the origin's code failed on call 1".into())
        );
    }
    assert_eq!(cache.get(1).await.unwrap().id, 1);
}

/// A spawned task's panic is caught by Tokio and kept in its `JoinHandle`; a test that
/// never awaits the handle passes with the panic unseen. Awaiting it and resuming the panic
/// fails the test, as here.
#[tokio::test]
#[should_panic(expected = "attempt to divide by zero")]
async fn a_panic_in_a_spawned_task_fails_the_test_once_its_handle_is_awaited() {
    let shares = [4, 2, 0]; // a bug: a zero the background task divides by
    let background = tokio::spawn(async move { shares.iter().map(|&n| 100 / n).sum::<u32>() });
    if let Err(error) = background.await {
        std::panic::resume_unwind(error.into_panic());
    }
}
// ANCHOR_END: panics

#[tokio::test]
async fn a_dropped_connection_closes_the_socket_and_the_lookup_in_flight_still_completes() {
    let release = Arc::new(Notify::new());
    let gate = release.clone();
    let origin = ScriptedOrigin::new(Duration::ZERO, move |_, _| Step::AnswerAfter(gate.clone()));
    let fetched = origin.calls();
    let cache = UserCache::new(origin, Policy::default());
    let (server_side, client_side) = tokio::io::duplex(1024);
    let (read, mut write) = tokio::io::split(client_side);
    write.write_all(b"GET 1\n").await.unwrap();

    cancel_check::drop_pending_after(
        serve_connection(server_side, cache.clone()),
        tokio::time::sleep(SHORT),
    )
    .await; // cut short mid-lookup
    let mut line = String::new();
    let read = BufReader::new(read).read_line(&mut line).await.unwrap();
    assert_eq!(
        read, 0,
        "the client sees the connection closed, with no reply"
    );

    release.notify_one();
    // the lookup that was in flight finishes in its own task; this one joins it
    let user = timeout(Duration::from_secs(5), cache.get(1)).await.unwrap();
    assert_eq!(user.unwrap().id, 1);
    assert_eq!(calls(&fetched), 1);
    assert_eq!(cache.stats().joined, 1);
}

#[tokio::test]
async fn a_dropped_server_stops_accepting_and_open_connections_carry_on() {
    let cache = UserCache::new(ScriptedOrigin::answering(Duration::ZERO), Policy::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    // The server runs while a client connects and asks; then it is dropped.
    let mut client =
        cancel_check::drop_pending_after(serve(listener, cache, CancellationToken::new()), async {
            let mut client = Client::connect(addr).await.unwrap();
            let reply = client.request("GET 1").await.unwrap();
            assert!(matches!(reply, Reply::Found(_)));
            client
        })
        .await;
    assert!(
        Client::connect(addr).await.is_err(),
        "the listener is closed"
    );
    assert!(matches!(
        client.request("GET 2").await.unwrap(),
        Reply::Found(_)
    ));
}

// ANCHOR: not_cancel_safe
#[tokio::test]
async fn a_request_dropped_after_sending_leaves_its_reply_for_the_next_one() {
    let release = Arc::new(Notify::new());
    let gate = release.clone();
    let origin = ScriptedOrigin::new(Duration::ZERO, move |id, _| match id {
        1 => Step::AnswerAfter(gate.clone()),
        _ => Step::Answer,
    });
    let cache = UserCache::new(origin, Policy::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _server = tokio::spawn(serve(listener, cache, CancellationToken::new()));
    let mut client = Client::connect(addr).await.unwrap();

    cancel_check::drop_pending_after(client.request("GET 1"), tokio::time::sleep(SHORT)).await;
    release.notify_one();
    let reply = client.request("GET 2").await.unwrap();
    assert!(
        matches!(reply, Reply::Found(ref u) if u.id == 1),
        "as documented, the reply to GET 1: {reply:?}"
    );
}
// ANCHOR_END: not_cancel_safe

#[tokio::test]
async fn a_dropped_connect_leaves_the_server_serving() {
    let cache = UserCache::new(ScriptedOrigin::answering(Duration::ZERO), Policy::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let _server = tokio::spawn(serve(listener, cache, CancellationToken::new()));
    for _ in 0..3 {
        cancel_check::drop_pending(Client::connect(addr)).await;
    }
    let mut client = Client::connect(addr).await.unwrap();
    let reply = client.request("GET 1").await.unwrap();
    assert!(matches!(reply, Reply::Found(_)));
}

/// A fetch the cache gave up on is dropped where it waits: the origin saw the call, and the
/// next lookup calls it again.
#[tokio::test(start_paused = true)]
async fn a_dropped_fetch_leaves_the_origin_to_be_asked_again() {
    let gate = Arc::new(Notify::new());
    let held = gate.clone();
    let origin = ScriptedOrigin::new(Duration::ZERO, move |_, _| Step::AnswerAfter(held.clone()));
    let called = origin.calls();
    cancel_check::drop_pending(testing::Origin::fetch(&origin, 1)).await;
    assert_eq!(calls(&called), 1);
    gate.notify_one();
    assert!(testing::Origin::fetch(&origin, 1).await.is_ok());
    assert_eq!(calls(&called), 2);
}
