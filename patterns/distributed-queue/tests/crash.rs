//! The crash proof, with real processes: 100,000 items through 2 producer and 4
//! consumer processes (this crate's binary), one consumer killed with SIGKILL at a random
//! point. The sink holds every item exactly once, and nothing is left pending.

mod common;

use std::collections::HashSet;
use std::process::Stdio;
use std::time::Duration;

use tokio::process::{Child, Command};

const ITEMS: u64 = 100_000;
const LIMIT: Duration = Duration::from_secs(300);

fn spawn(url: &str, role: &str, args: &[&str]) -> Child {
    Command::new(env!("CARGO_BIN_EXE_distributed-queue"))
        .args([role, "--redis-url", url, "--stream", "jobs"])
        .args(args)
        .env("RUST_LOG", "error")
        .stdin(Stdio::null())
        .stdout(Stdio::null())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_consumer_killed_at_a_random_point_loses_nothing_and_doubles_nothing() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let queue = common::queue(&server, "jobs", |_| {}).await;
    let url = server.url();
    let consumers: Vec<Child> = (1..=4)
        .map(|c| {
            let name = format!("c{c}");
            spawn(
                &url,
                "consume",
                &["--name", &name, "--work-us", "0", "--claim-idle-ms", "300"],
            )
        })
        .collect();
    let half = (ITEMS / 2).to_string();
    let mut producers = [
        spawn(&url, "produce", &["--first", "0", "--count", &half]),
        spawn(&url, "produce", &["--first", &half, "--count", &half]),
    ];

    // A random moment: once between 5% and 90% of the items are in the sink.
    let at = fastrand::u64(ITEMS / 20..ITEMS * 9 / 10);
    eprintln!("killing c1 once {at} items are in the sink");
    let mut sink = queue.sink("jobs:sink");
    common::until("the sink to fill", LIMIT, || {
        let mut sink = sink.clone();
        async move { sink.count().await.unwrap() >= at }
    })
    .await;
    let mut consumers = consumers.into_iter();
    let mut victim = consumers.next().unwrap();
    victim.start_kill().unwrap();
    victim.wait().await.unwrap();
    eprintln!("c1 held {} items", queue.pending_of("c1").await.unwrap());

    for producer in &mut producers {
        assert!(producer.wait().await.unwrap().success());
    }
    let progress = tokio::time::timeout(LIMIT, queue.wait_drained(Duration::from_millis(20)))
        .await
        .expect("drained in time")
        .unwrap();
    assert!(progress.drained(), "{progress:?}");
    assert_eq!(progress.dead_lettered, 0);

    // Every item once: the sink's fields are exactly the ids put.
    let mut conn = common::conn(&server).await;
    let ids: Vec<String> = redis::cmd("HKEYS")
        .arg("jobs:sink")
        .query_async(&mut conn)
        .await
        .unwrap();
    let expected: HashSet<String> = (0..ITEMS).map(|i| format!("item-{i}")).collect();
    assert_eq!(ids.len() as u64, ITEMS, "a field per item");
    assert_eq!(ids.into_iter().collect::<HashSet<_>>(), expected);
    let pending: Vec<redis::Value> = redis::cmd("XPENDING")
        .arg(&["jobs", "workers", "-", "+", "10"])
        .query_async(&mut conn)
        .await
        .unwrap();
    assert!(pending.is_empty(), "the pending list is empty: {pending:?}");
    assert_eq!(sink.count().await.unwrap(), ITEMS);
}
