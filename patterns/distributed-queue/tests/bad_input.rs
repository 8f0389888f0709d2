//! Bad input to the demo and the library: a URL that is not Redis's, a Redis nobody
//! answers, a wrong password, a stream key that holds another type. Each is one clear
//! line and a non-zero exit, before anything is put.

mod common;

use distributed_queue::{Queue, QueueConfig, QueueError};
use external_tools::redis::Options;
use fixture_server::RefusingPort;

/// Runs the demo with `args`: its exit code and its stderr.
async fn demo(args: &[&str]) -> (Option<i32>, String) {
    let output = tokio::process::Command::new(env!("CARGO_BIN_EXE_distributed-queue"))
        .args(args)
        .env("RUST_LOG", "off")
        .output()
        .await
        .unwrap();
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stderr).into_owned(),
    )
}

fn one_line(stderr: &str) -> &str {
    assert_eq!(stderr.lines().count(), 1, "one line: {stderr}");
    stderr.trim_end()
}

#[tokio::test]
async fn a_url_that_is_not_redis_is_refused() {
    let (code, stderr) = demo(&["--redis-url", "http://127.0.0.1:1/"]).await;
    assert_eq!(code, Some(1));
    assert!(
        one_line(&stderr).starts_with("error: not a Redis URL"),
        "{stderr}"
    );
}

#[tokio::test]
async fn an_unreachable_redis_is_named_with_its_reason() {
    let refusing = RefusingPort::bind().unwrap();
    let url = format!("redis://{}/", refusing.addr());
    let (code, stderr) = demo(&["--redis-url", &url]).await;
    assert_eq!(code, Some(1));
    let line = one_line(&stderr);
    assert!(
        line.starts_with(&format!("error: cannot reach Redis at {}", refusing.addr())),
        "{line}"
    );
    assert!(line.to_lowercase().contains("connection refused"), "{line}");
}

#[tokio::test]
async fn a_wrong_password_is_called_so() {
    let options = Options {
        password: Some("right".into()),
        ..Default::default()
    };
    let Some(server) = common::redis(&options) else {
        return;
    };
    let wrong = format!("redis://:wrong@127.0.0.1:{}/", server.port());
    let none = format!("redis://127.0.0.1:{}/", server.port());
    for url in [wrong, none] {
        let (code, stderr) = demo(&["--redis-url", &url]).await;
        assert_eq!(code, Some(1), "{url}");
        let line = one_line(&stderr);
        assert!(line.contains("refused the credentials"), "{url}: {line}");
        assert!(
            !line.contains("wrong@"),
            "the password is not printed: {line}"
        );
    }
}

#[tokio::test]
async fn a_key_of_another_type_is_refused_and_kept() {
    let Some(server) = common::redis(&Default::default()) else {
        return;
    };
    let mut conn = common::conn(&server).await;
    redis::cmd("SET")
        .arg(&["jobs", "not a stream"])
        .query_async::<()>(&mut conn)
        .await
        .unwrap();
    let (code, stderr) = demo(&["--redis-url", &server.url(), "--stream", "jobs"]).await;
    assert_eq!(code, Some(1));
    assert_eq!(
        one_line(&stderr),
        "error: key \"jobs\" holds a string, not a stream"
    );
    let kept: String = redis::cmd("GET")
        .arg("jobs")
        .query_async(&mut conn)
        .await
        .unwrap();
    assert_eq!(kept, "not a stream", "the key is left as it was");

    let opened = Queue::open(&server.url(), QueueConfig::new("jobs")).await;
    assert!(matches!(opened, Err(QueueError::WrongType { ref found, .. }) if found == "string"));
}
