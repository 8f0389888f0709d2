//! Opening a queue: a second open shares the stream and group the first created, and a
//! user Redis does not allow to create the group gets Redis's own refusal.

mod common;

use distributed_queue::{Item, Queue, QueueConfig, QueueError};

/// `XGROUP CREATE` answers `BUSYGROUP` when the group is there: that is not an error.
#[tokio::test]
async fn a_queue_opened_twice_shares_its_stream_and_group() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let first = common::queue(&server, "jobs", |_| {}).await;
    first
        .producer()
        .put(&Item::new("a", "from the first"))
        .await
        .unwrap();
    let second = common::queue(&server, "jobs", |_| {}).await;
    let mut consumer = second.consumer("c2").await.unwrap();
    assert_eq!(consumer.name(), "c2");
    let got = consumer.get().await.unwrap();
    let ids: Vec<&str> = got.iter().map(|d| d.item.id.as_str()).collect();
    assert_eq!(ids, ["a"], "the group kept its place in the stream");
}

/// Any other error of `XGROUP CREATE` stops the open: here an ACL user without `XGROUP`.
#[tokio::test]
async fn a_user_who_may_not_create_the_group_gets_redis_refusal() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let mut conn = common::conn(&server).await;
    let _: () = redis::cmd("ACL")
        .arg(&[
            "SETUSER", "reader", "on", ">secret", "~*", "&*", "+@all", "-xgroup",
        ])
        .query_async(&mut conn)
        .await
        .unwrap();
    let url = format!("redis://reader:secret@127.0.0.1:{}/", server.port());
    let error = Queue::open(&url, QueueConfig::new("jobs"))
        .await
        .expect_err("XGROUP is not allowed");
    assert!(
        matches!(&error, QueueError::Redis(e) if e.code() == Some("NOPERM")),
        "{error:?}"
    );
    let exists: u64 = redis::cmd("EXISTS")
        .arg("jobs")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(exists, 0, "nothing was created");
}
