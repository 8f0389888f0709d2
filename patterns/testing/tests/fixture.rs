//! Real HTTP: the cache in front of the embedded fixture server, whose own request counter
//! is the oracle for what reached the origin. No paused time here: real sockets.

use std::time::Duration;

use fixture_server::{Blackhole, FixtureServer, RefusingPort};
use futures::future::join_all;
use testing::{Client, HttpOrigin, LookupError, Policy, Reply, UserCache, serve};
use tokio_util::sync::CancellationToken;

fn origin(base: &str) -> HttpOrigin {
    HttpOrigin::new(base.parse().unwrap(), Duration::from_secs(5)).unwrap()
}

// ANCHOR: fixture
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_thousand_lookups_of_ten_users_reach_the_origin_ten_times() {
    let server = FixtureServer::start().await.unwrap();
    let cache = UserCache::new(origin(&server.base_url()), Policy::default());
    let lookups = (0..1_000).map(|i| {
        let cache = cache.clone();
        async move { cache.get(i % 10 + 1).await }
    });
    let users = join_all(lookups).await;
    assert!(users.iter().all(Result::is_ok));
    assert_eq!(server.stats().requests, 10);
    let stats = cache.stats();
    assert_eq!(stats.misses, 10);
    assert_eq!(stats.hits + stats.joined, 990);
}
// ANCHOR_END: fixture

#[tokio::test]
async fn an_unknown_user_is_not_found_and_asked_for_once() {
    let server = FixtureServer::start().await.unwrap();
    let cache = UserCache::new(origin(&server.base_url()), Policy::default());
    assert_eq!(cache.get(404).await, Err(LookupError::NotFound(404)));
    assert_eq!(
        server.stats().requests,
        1,
        "a 404 is an answer: not retried"
    );
}

#[tokio::test]
async fn a_refused_connection_is_retried_then_reported() {
    let refusing = RefusingPort::bind().unwrap();
    let base = refusing.url();
    let policy = Policy {
        first_delay: Duration::from_millis(1),
        ..Policy::default()
    };
    let cache = UserCache::new(origin(&base), policy);
    let error = cache.get(1).await.unwrap_err();
    assert_eq!(error, LookupError::Transient("connection refused".into()));
    assert_eq!(cache.stats().fetches, 3);
}

#[tokio::test]
async fn an_origin_that_never_answers_is_cut_by_the_request_timeout() {
    let hole = Blackhole::start().await.unwrap();
    let origin = HttpOrigin::new(hole.url().parse().unwrap(), Duration::from_millis(200)).unwrap();
    let policy = Policy {
        retries: 0,
        ..Policy::default()
    };
    let cache = UserCache::new(origin, policy);
    let error = cache.get(1).await.unwrap_err();
    assert!(error.is_transient(), "{error}");
}

#[tokio::test]
async fn clients_over_tcp_get_users_and_the_server_stops_when_asked() {
    let fixture = FixtureServer::start().await.unwrap();
    let cache = UserCache::new(origin(&fixture.base_url()), Policy::default());
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let addr = listener.local_addr().unwrap();
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(serve(listener, cache.clone(), shutdown.clone()));

    let mut client = Client::connect(addr).await.unwrap();
    let reply = client.request("GET 1").await.unwrap();
    assert!(
        matches!(reply, Reply::Found(ref u) if u.name == "Ada Lovelace"),
        "{reply:?}"
    );
    assert_eq!(client.request("GET 11").await.unwrap(), Reply::NotFound(11));
    assert!(matches!(
        client.request("hello").await.unwrap(),
        Reply::Error(_)
    ));
    drop(client);

    shutdown.cancel();
    server.await.unwrap().unwrap();
    assert_eq!(fixture.stats().requests, 2);
}
