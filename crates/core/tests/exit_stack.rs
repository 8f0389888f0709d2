//! The exit stack releases in reverse order, all of them, reporting every failure.

mod common;

use std::time::Duration;

use common::{Journal, Probe};
use patterns_core::{ExitStack, ScopeError, with_exit_stack};

#[tokio::test]
async fn releases_in_reverse_order_exactly_once() {
    let journal = Journal::default();
    let names = with_exit_stack(async |stack| {
        let a = stack.enter(Probe::open("a", &journal)).await?;
        let b = stack.enter(Probe::open("b", &journal)).await?;
        let c = stack.enter(Probe::open("c", &journal)).await?;
        stack.get_mut(b).touch();
        anyhow::Ok([stack.get(a).name, stack.get(b).name, stack.get(c).name])
    })
    .await
    .unwrap();
    assert_eq!(names, ["a", "b", "c"]);
    assert_eq!(journal.releases(), ["c", "b", "a"]);
}

#[tokio::test]
async fn every_release_runs_and_every_failure_is_reported() {
    let journal = Journal::default();
    let mut stack = ExitStack::new();
    stack.push(Probe::open("a", &journal).await.unwrap().failing_release());
    stack.push(Probe::open("b", &journal).await.unwrap());
    stack.push(Probe::open("c", &journal).await.unwrap().failing_release());
    let errors = stack.close().await.unwrap_err();
    assert_eq!(journal.releases(), ["c", "b", "a"]);
    let failed: Vec<_> = errors
        .failures
        .iter()
        .map(|f| f.error.to_string())
        .collect();
    assert_eq!(failed, ["release of c failed", "release of a failed"]);
    assert!(
        errors.to_string().starts_with("2 release(s) failed"),
        "{errors}"
    );
}

#[tokio::test]
async fn a_failed_enter_unwinds_what_was_entered_before() {
    let journal = Journal::default();
    let err = with_exit_stack(async |stack| {
        stack.enter(Probe::open("a", &journal)).await?;
        stack.enter(Probe::open("b", &journal)).await?;
        stack.enter(Probe::open_failing("c", &journal)).await?;
        unreachable!("the third enter fails");
        #[allow(unreachable_code)]
        anyhow::Ok(())
    })
    .await
    .unwrap_err();
    assert!(
        matches!(&err, ScopeError::Body(e) if e.to_string() == "cannot open c"),
        "{err:?}"
    );
    assert_eq!(journal.releases(), ["b", "a"]);
}

#[tokio::test]
async fn deferred_callbacks_run_in_stack_order_with_resources() {
    let journal = Journal::default();
    let order = std::sync::Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut stack = ExitStack::new();
    stack.push(Probe::open("a", &journal).await.unwrap());
    let seen = order.clone();
    let journal_at_callback = journal.clone();
    stack.defer("flush", async move {
        // Runs before "a" is released and after "b" is.
        seen.lock().unwrap().push(journal_at_callback.releases());
        Ok(())
    });
    stack.push(Probe::open("b", &journal).await.unwrap());
    assert_eq!(stack.len(), 3);
    stack.close().await.unwrap();
    assert_eq!(*order.lock().unwrap(), [vec!["b".to_owned()]]);
    assert_eq!(journal.releases(), ["b", "a"]);
}

#[tokio::test]
async fn panic_in_body_releases_everything() {
    let journal = Journal::default();
    let j = journal.clone();
    let task = tokio::spawn(async move {
        with_exit_stack(async |stack| -> anyhow::Result<()> {
            stack.enter(Probe::open("a", &j)).await?;
            stack.enter(Probe::open("b", &j)).await?;
            panic!("boom")
        })
        .await
    });
    assert!(task.await.unwrap_err().is_panic());
    assert_eq!(journal.releases(), ["b", "a"]);
}

#[tokio::test(start_paused = true)]
async fn a_dropped_stack_releases_in_the_background_in_order() {
    let journal = Journal::default();
    cancel_check::drop_pending_after(
        with_exit_stack(async |stack| {
            stack.enter(Probe::open("a", &journal)).await?;
            stack.enter(Probe::open("b", &journal)).await?;
            std::future::pending::<()>().await;
            anyhow::Ok(())
        }),
        tokio::time::sleep(Duration::from_secs(1)),
    )
    .await;
    journal.next_release().await; // b
    journal.next_release().await; // a
    assert_eq!(journal.releases(), ["b", "a"]);
}

/// Entered a, b and c, with b's release panicking: the panic is one failure, and a and c
/// are released all the same (Python's `AsyncExitStack` runs every remaining exit).
#[tokio::test]
async fn a_panicking_release_skips_no_other_release() {
    let journal = Journal::default();
    let mut stack = ExitStack::new();
    stack.push(Probe::open("a", &journal).await.unwrap());
    stack.push(
        Probe::open("b", &journal)
            .await
            .unwrap()
            .panicking_release(),
    );
    stack.push(Probe::open("c", &journal).await.unwrap());
    let failures = stack.close().await.unwrap_err().failures;
    assert_eq!(journal.releases(), ["c", "b", "a"]);
    assert_eq!(failures.len(), 1);
    assert!(
        failures[0].label.ends_with("Probe"),
        "{}",
        failures[0].label
    );
    assert_eq!(
        failures[0].error.to_string(),
        "release panicked: release of b panicked"
    );
}

#[tokio::test]
async fn a_panicking_deferred_callback_skips_no_release() {
    let journal = Journal::default();
    let result = with_exit_stack(async |stack| {
        stack.enter(Probe::open("a", &journal)).await?;
        stack.defer("boom", async { panic!("cleanup panicked") });
        stack.enter(Probe::open("b", &journal)).await?;
        anyhow::Ok(())
    })
    .await;
    assert_eq!(journal.releases(), ["b", "a"]);
    let error = result.unwrap_err().release().unwrap().to_string();
    assert!(
        error.contains("boom: release panicked: cleanup panicked"),
        "{error}"
    );
}

#[tokio::test(start_paused = true)]
async fn a_dropped_stack_with_a_panicking_release_releases_the_rest() {
    let journal = Journal::default();
    let mut stack = ExitStack::new();
    stack.push(Probe::open("a", &journal).await.unwrap());
    stack.push(
        Probe::open("b", &journal)
            .await
            .unwrap()
            .panicking_release(),
    );
    drop(stack);
    journal.next_release().await; // b
    journal.next_release().await; // a
    assert_eq!(journal.releases(), ["b", "a"]);
}

#[tokio::test]
async fn a_stack_says_what_it_holds() {
    let journal = Journal::default();
    let mut stack = ExitStack::new();
    assert!(stack.is_empty());
    let a = stack.push(Probe::open("a", &journal).await.unwrap());
    stack.defer("cleanup", async { Ok(()) });
    assert!(!stack.is_empty());
    assert_eq!(stack.len(), 2);
    assert_eq!(format!("{a:?}"), "Handle<exit_stack::common::Probe>(0)");
    let shown = format!("{stack:?}");
    assert_eq!(
        shown,
        r#"ExitStack { entries: ["exit_stack::common::Probe", "cleanup"] }"#
    );
    stack.close().await.unwrap();
}
