//! What the tests share: a throwaway Redis (skipped visibly without `redis-server`, a
//! failure under CI=true), a queue on a fresh stream, and waiting on Redis's own state.

#![allow(dead_code, unreachable_pub)] // each test file uses its own part

use std::future::Future;
use std::time::Duration;

use distributed_queue::{Queue, QueueConfig};
use external_tools::redis::{Options, Redis};

/// A throwaway server, or `None` (skipped) when the machine has no `redis-server`.
pub fn redis(options: &Options) -> Option<Redis> {
    external_tools::require("a throwaway Redis", Redis::start(options))
}

/// A queue on the stream `stream`, with `change` applied to the defaults.
pub async fn queue(server: &Redis, stream: &str, change: impl FnOnce(&mut QueueConfig)) -> Queue {
    let mut config = QueueConfig::new(stream);
    change(&mut config);
    Queue::open(&server.url(), config).await.unwrap()
}

/// A plain connection for a test's own commands.
pub async fn conn(server: &Redis) -> redis::aio::MultiplexedConnection {
    redis::Client::open(server.url())
        .unwrap()
        .get_multiplexed_async_connection()
        .await
        .unwrap()
}

/// Polls `check` until it holds: a wait on Redis's state, not on the clock. Fails after
/// `limit`, which only guards against a hang.
pub async fn until<F, Fut>(what: &str, limit: Duration, mut check: F)
where
    F: FnMut() -> Fut,
    Fut: Future<Output = bool>,
{
    let wait = async {
        while !check().await {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    };
    tokio::time::timeout(limit, wait)
        .await
        .unwrap_or_else(|_| panic!("{what}: not within {limit:?}"));
}

/// The value of `field` in `INFO <section>` (`blocked_clients:3` gives `"3"`).
pub async fn info_field(
    conn: &mut redis::aio::MultiplexedConnection,
    section: &str,
    field: &str,
) -> Option<String> {
    let info: String = redis::cmd("INFO")
        .arg(section)
        .query_async(conn)
        .await
        .unwrap();
    let prefix = format!("{field}:");
    info.lines()
        .find_map(|l| l.strip_prefix(&prefix))
        .map(|value| value.trim().to_owned())
}

/// `INFO clients`' count of clients blocked in a command such as `XREADGROUP … BLOCK`.
pub async fn blocked_clients(conn: &mut redis::aio::MultiplexedConnection) -> u64 {
    let value = info_field(conn, "clients", "blocked_clients").await;
    value.and_then(|n| n.parse().ok()).unwrap_or(0)
}

/// The id of the client blocked in `XREADGROUP`, from `CLIENT LIST`, if one is.
pub async fn blocked_reader(conn: &mut redis::aio::MultiplexedConnection) -> Option<i64> {
    let list: String = redis::cmd("CLIENT")
        .arg("LIST")
        .query_async(conn)
        .await
        .unwrap();
    list.lines()
        .filter(|l| l.contains(" cmd=xreadgroup "))
        .find_map(|l| l.strip_prefix("id=")?.split(' ').next()?.parse().ok())
}
