//! `scoped` releases exactly once on every path: success, error, panic, cancellation.

mod common;

use std::time::Duration;

use common::{Journal, Probe};
use patterns_core::resource::background_releases;
use patterns_core::{Guarded, ScopeError, scoped};

#[tokio::test]
async fn success_returns_the_value_and_releases_once() {
    let journal = Journal::default();
    let probe = Probe::open("a", &journal).await.unwrap();
    let value = scoped(probe, async |p| {
        p.touch();
        Ok::<_, anyhow::Error>(42)
    })
    .await
    .unwrap();
    assert_eq!(value, 42);
    assert_eq!(
        journal.events(),
        ["open a", "use a", "start release a", "release a"]
    );
}

#[tokio::test]
async fn body_error_is_returned_and_resource_released() {
    let journal = Journal::default();
    let probe = Probe::open("a", &journal).await.unwrap();
    let err = scoped(probe, async |_| Err::<(), _>("body broke"))
        .await
        .unwrap_err();
    assert!(matches!(err, ScopeError::Body("body broke")), "{err:?}");
    assert_eq!(journal.count("release a"), 1);
}

#[tokio::test]
async fn release_error_after_success_is_reported() {
    let journal = Journal::default();
    let probe = Probe::open("a", &journal).await.unwrap().failing_release();
    let err = scoped(probe, async |_| Ok::<_, String>(()))
        .await
        .unwrap_err();
    assert!(matches!(err, ScopeError::Release(_)), "{err:?}");
    assert_eq!(journal.count("release a"), 1);
}

#[tokio::test]
async fn release_error_does_not_hide_the_body_error() {
    let journal = Journal::default();
    let probe = Probe::open("a", &journal).await.unwrap().failing_release();
    let err = scoped(probe, async |_| Err::<(), _>("body broke"))
        .await
        .unwrap_err();
    assert_eq!(err.body(), Some(&"body broke"));
    assert!(
        err.release()
            .unwrap()
            .to_string()
            .contains("release of a failed")
    );
    assert!(err.to_string().starts_with("body broke"), "{err}");
}

#[tokio::test]
async fn panic_in_body_releases_then_resumes_the_panic() {
    let journal = Journal::default();
    let probe = Probe::open("a", &journal).await.unwrap();
    // The scope runs in a task so the resumed panic surfaces as a JoinError.
    let task = tokio::spawn(scoped(probe, async |_| -> Result<(), String> {
        panic!("boom")
    }));
    let join_error = task.await.unwrap_err();
    assert!(join_error.is_panic());
    assert_eq!(journal.count("release a"), 1);
}

#[tokio::test(start_paused = true)]
async fn cancelled_scope_hands_release_to_the_runtime() {
    let journal = Journal::default();
    let probe = Probe::open("a", &journal).await.unwrap();
    let scope = scoped(probe, async |_| {
        std::future::pending::<()>().await;
        Ok::<_, String>(())
    });
    // The timeout drops the scope's future mid-body: the Python equivalent is a
    // CancelledError raised inside `async with`.
    cancel_check::drop_pending_after(scope, tokio::time::sleep(Duration::from_secs(1))).await;
    journal.next_release().await;
    assert_eq!(journal.count("release a"), 1);
}

/// A scope dropped during its release: the release goes on in a task of its own, to its
/// end, and `background_releases` waits for it, so a program can still wait before it exits.
#[tokio::test(start_paused = true)]
async fn cancelling_during_release_does_not_cut_it_short() {
    let journal = Journal::default();
    let probe = Probe::open("a", &journal)
        .await
        .unwrap()
        .slow_release(Duration::from_secs(5));
    // Cancel one second into the five-second release.
    cancel_check::drop_pending_after(
        scoped(probe, async |_| Ok::<_, String>(())),
        tokio::time::sleep(Duration::from_secs(1)),
    )
    .await;
    assert_eq!(journal.count("start release a"), 1);
    assert_eq!(journal.count("release a"), 0, "release still running");
    background_releases().await;
    assert_eq!(journal.count("release a"), 1);
}

#[tokio::test]
async fn guard_released_explicitly_runs_release_once() {
    let journal = Journal::default();
    let mut guard = Guarded::new(Probe::open("a", &journal).await.unwrap());
    guard.touch();
    guard.release().await.unwrap();
    assert_eq!(journal.count("release a"), 1);
}

#[test]
fn guard_dropped_outside_a_runtime_leaks_loudly_instead_of_blocking() {
    let journal = Journal::default();
    let runtime = tokio::runtime::Runtime::new().unwrap();
    let probe = runtime.block_on(Probe::open("a", &journal)).unwrap();
    drop(runtime);
    drop(Guarded::new(probe));
    assert_eq!(journal.count("start release a"), 0);
}

#[tokio::test]
async fn a_guard_shows_its_resource() {
    let journal = Journal::default();
    let guard = Guarded::new(Probe::open("a", &journal).await.unwrap());
    let shown = format!("{guard:?}");
    assert!(
        shown.starts_with(r#"Guarded { resource: Some(Probe { name: "a""#),
        "{shown}"
    );
    guard.release().await.unwrap();
}
