//! Every public async fn dropped at its `.await`, checked against its `# Cancel safety`
//! section: the money in the system is the invariant. Time is paused: the transfers'
//! steps are virtual, and `timeout` cuts them at a chosen point.

use std::time::Duration;

use pitfalls::{Accounts, Gate, TransferError};
use tokio::time::timeout;
use tokio_util::sync::CancellationToken;

const STEP: Duration = Duration::from_millis(50);
const CUT: Duration = Duration::from_millis(10);

fn accounts() -> Accounts {
    Accounts::new([100, 100], STEP)
}

#[tokio::test(start_paused = true)]
async fn a_naive_transfer_cut_short_loses_the_money_as_documented() {
    let accounts = accounts();
    cancel_check::drop_pending_after(accounts.transfer_naive(0, 1, 30), tokio::time::sleep(CUT))
        .await;
    assert_eq!(accounts.balances(), [70, 100]);
    assert_eq!(accounts.total(), 170);
}

#[tokio::test(start_paused = true)]
async fn a_guarded_transfer_cut_short_is_refunded() {
    let accounts = accounts();
    cancel_check::drop_pending_after(accounts.transfer_guarded(0, 1, 30), tokio::time::sleep(CUT))
        .await;
    assert_eq!(accounts.balances(), [100, 100]);
}

#[tokio::test(start_paused = true)]
async fn a_cancelled_token_refunds_but_a_dropped_cancellable_transfer_loses() {
    let accounts = accounts();
    let token = CancellationToken::new();
    let canceller = token.clone();
    let cancel = async move {
        tokio::time::sleep(CUT).await;
        canceller.cancel();
    };
    let (outcome, ()) = tokio::join!(accounts.transfer_cancellable(0, 1, 30, &token), cancel);
    assert_eq!(outcome, Err(TransferError::Cancelled));
    assert_eq!(accounts.balances(), [100, 100]);

    let never = CancellationToken::new();
    cancel_check::drop_pending_after(
        accounts.transfer_cancellable(0, 1, 30, &never),
        tokio::time::sleep(CUT),
    )
    .await;
    assert_eq!(
        accounts.total(),
        170,
        "the section says a drop loses the amount"
    );
}

#[tokio::test(start_paused = true)]
async fn a_transfer_in_a_task_finishes_after_its_caller_went_away() {
    let accounts = accounts();
    cancel_check::drop_pending_after(accounts.transfer_in_task(0, 1, 30), tokio::time::sleep(CUT))
        .await;
    assert_eq!(accounts.balances(), [70, 100], "half-way, still running");
    accounts.finish_transfers().await;
    assert_eq!(accounts.balances(), [70, 130]);
}

#[test] // a runtime of its own, driven here: a #[tokio::test] could not block_on it
fn a_transfer_in_a_task_whose_runtime_stops_is_refunded() {
    let accounts = accounts();
    let runtime = tokio::runtime::Builder::new_current_thread()
        .enable_time()
        .start_paused(true)
        .build()
        .unwrap();
    let on_runtime = accounts.clone();
    let handle = runtime.spawn(async move { on_runtime.transfer_in_task(0, 1, 30).await });
    // The caller task and the transfer task each run once, to the transfer's `.await`.
    for _ in 0..3 {
        runtime.block_on(tokio::task::yield_now());
    }
    assert_eq!(accounts.balances(), [70, 100]);
    runtime.shutdown_background(); // drops every task: the guard refunds
    drop(handle);
    assert_eq!(accounts.balances(), [100, 100]);
}

#[tokio::test(start_paused = true)]
async fn finish_transfers_dropped_leaves_the_transfers_running() {
    let accounts = accounts();
    let caller = {
        let accounts = accounts.clone();
        tokio::spawn(async move { accounts.transfer_in_task(0, 1, 30).await })
    };
    tokio::task::yield_now().await;
    cancel_check::drop_pending_after(accounts.finish_transfers(), tokio::time::sleep(CUT)).await;
    assert_eq!(caller.await.unwrap(), Ok(()));
    assert_eq!(accounts.balances(), [70, 130]);
    // a later transfer in a task, and a later wait for it, still work
    let again = tokio::spawn({
        let accounts = accounts.clone();
        async move { accounts.transfer_in_task(1, 0, 30).await }
    });
    tokio::task::yield_now().await;
    accounts.finish_transfers().await;
    assert_eq!(accounts.balances(), [100, 100]);
    assert_eq!(again.await.unwrap(), Ok(()));
}

#[tokio::test(start_paused = true)]
async fn a_refused_transfer_changes_nothing() {
    let accounts = accounts();
    let refused = accounts.transfer_guarded(0, 1, 500).await;
    assert!(matches!(refused, Err(TransferError::Insufficient { .. })));
    assert_eq!(accounts.balances(), [100, 100]);
}

#[tokio::test(start_paused = true)]
async fn a_gate_wait_dropped_and_made_again_still_wakes() {
    let gate = Gate::new();
    cancel_check::drop_pending_after(gate.wait(), tokio::time::sleep(CUT)).await;
    let opener = gate.clone();
    let (woken, ()) = tokio::join!(timeout(STEP, gate.wait()), async move { opener.open() });
    assert!(woken.is_ok());
}
