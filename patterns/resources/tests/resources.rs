//! Every resource is released exactly once, on every path, as seen from the server side,
//! the file system and the lock's journal.

use std::time::Duration;

use fixture_server::FixtureServer;
use patterns_core::{AsyncResource, ScopeError, scoped};
use resources::{Connection, ScratchDir, contend, fetch_through_stack, process_files, write_files};

/// Waits until the server has seen every connection close, failing the test otherwise.
async fn all_closed(server: &FixtureServer) {
    assert!(
        server
            .connections_close_to(0, Duration::from_secs(10))
            .await,
        "every connection closes"
    );
}

#[tokio::test]
async fn a_connection_reuses_one_socket_and_closes_it_on_release() {
    let server = FixtureServer::start().await.unwrap();
    let users = scoped(
        Connection::connect(&server.base_url()).await.unwrap(),
        async |c| {
            let first = c.fetch("/users/1").await?;
            let second = c.fetch("/users/2").await?;
            anyhow::Ok([first, second])
        },
    )
    .await
    .unwrap();
    assert!(users[0].contains("Ada Lovelace") && users[1].contains("Grace Hopper"));
    assert_eq!(
        (server.stats().connections, server.stats().requests),
        (1, 2)
    );
    all_closed(&server).await;
}

#[tokio::test]
async fn a_failed_request_still_closes_the_connection() {
    let server = FixtureServer::start().await.unwrap();
    let err = scoped(
        Connection::connect(&server.base_url()).await.unwrap(),
        async |c| c.fetch("/status/503").await,
    )
    .await
    .unwrap_err();
    assert!(
        matches!(&err, ScopeError::Body(e) if e.to_string().contains("503")),
        "{err}"
    );
    all_closed(&server).await;
}

#[tokio::test]
async fn connecting_to_bad_targets_fails_clearly() {
    let refused = Connection::connect("http://127.0.0.1:1").await.unwrap_err();
    assert!(format!("{refused:#}").contains("cannot connect to 127.0.0.1:1"));
    let tls = Connection::connect("https://example.com")
        .await
        .unwrap_err();
    assert!(tls.to_string().contains("plain http:// only"));
    let garbage = Connection::connect("not a url").await.unwrap_err();
    assert!(garbage.to_string().contains("invalid URL"));
}

#[tokio::test(start_paused = true)]
async fn files_are_processed_concurrently_and_timed() {
    let dir = ScratchDir::create("resources-test-").await.unwrap();
    let paths = write_files(dir.path(), &[10, 20, 30]).await.unwrap();
    let started = tokio::time::Instant::now();
    let reports = process_files(&paths, Duration::from_secs(1)).await.unwrap();
    // Three one-second jobs at once take one (virtual) second.
    assert_eq!(started.elapsed().as_secs(), 1);
    let sizes: Vec<_> = reports.iter().map(|r| (r.name.as_str(), r.bytes)).collect();
    assert_eq!(
        sizes,
        [("file1.txt", 10), ("file2.txt", 20), ("file3.txt", 30)]
    );
    assert!(
        reports.iter().all(|r| r.elapsed.as_secs() == 1),
        "{reports:?}"
    );
    let path = dir.path().to_owned();
    dir.release().await.unwrap();
    assert!(!path.exists());
}

#[tokio::test]
async fn a_missing_file_fails_with_its_name() {
    let err = process_files(&["/no/such/file.txt".into()], Duration::ZERO)
        .await
        .unwrap_err();
    assert!(err.to_string().contains("/no/such/file.txt"));
}

#[tokio::test(start_paused = true)]
async fn the_lock_lets_one_task_in_at_a_time() {
    let started = tokio::time::Instant::now();
    let journal = contend(&["A", "B", "C"], Duration::from_millis(100)).await;
    assert_eq!(started.elapsed(), Duration::from_millis(300));
    // Every "acquired" is followed by the same task's "released": no overlap.
    for pair in journal.chunks(2) {
        let owner = pair[0].strip_suffix(" acquired").unwrap();
        assert_eq!(pair[1], format!("{owner} released"), "{journal:?}");
    }
    assert_eq!(journal.len(), 6);
}

#[tokio::test]
async fn the_exit_stack_releases_every_connection_and_the_scratch_dir() {
    let server = FixtureServer::start().await.unwrap();
    let urls = vec![server.base_url(); 3];
    let sizes = fetch_through_stack(&urls, "/users/1").await.unwrap();
    assert_eq!(sizes.len(), 3);
    assert_eq!(server.stats().connections, 3);
    all_closed(&server).await;
}

#[tokio::test]
async fn a_connection_that_fails_to_open_unwinds_the_ones_before_it() {
    let server = FixtureServer::start().await.unwrap();
    let urls = vec![
        server.base_url(),
        server.base_url(),
        "http://127.0.0.1:1".to_owned(),
    ];
    let err = fetch_through_stack(&urls, "/users/1").await.unwrap_err();
    assert!(
        format!("{err}").contains("cannot connect to 127.0.0.1:1"),
        "{err}"
    );
    assert_eq!(server.stats().connections, 2);
    all_closed(&server).await;
}
