//! Demo: every classic asyncio mistake, made on purpose in Rust and caught, then fixed.
//! The compile errors are the compiler's own output, committed by the compile-fail tests.
//!
//! ```text
//! cargo run -p pitfalls
//! cargo run -p pitfalls -- --block-ms 500 --slow-poll-ms 20
//! RUSTFLAGS="--cfg tokio_unstable" cargo run -p pitfalls --features console   # + tokio-console
//! ```

use std::future::Future;
use std::process::ExitCode;
use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::task::{Context, Poll};
use std::time::Duration;

use blocking::{Ticker, busy_for};
use clap::Parser;
use futures::FutureExt;
use futures::future::FusedFuture;
use patterns_core::{app, cli::count};
use pitfalls::{
    Accounts, ForgetfulGate, Gate, SlowPolls, SlowTask, SyncBridge, expect_panic, spawn_waiter,
};
use tokio::runtime::{Builder, Handle, Runtime};
use tokio_util::sync::CancellationToken;

/// Make each classic async mistake on purpose, catch it, and show the fix.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// How long the blocking task computes without an `.await`, in milliseconds.
    #[arg(long, default_value_t = 200, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    block_ms: u64,
    /// A poll longer than this is slow, in milliseconds.
    #[arg(long, default_value_t = 50, value_parser = clap::value_parser!(u64).range(1..=10_000))]
    slow_poll_ms: u64,
    /// How long to wait for a task that lost its wake-up before calling it hung, in ms.
    #[arg(long, default_value_t = 100, value_parser = clap::value_parser!(u64).range(1..=60_000))]
    hang_ms: u64,
}

/// The compiler's output for each mistake Rust refuses, as the compile-fail tests keep it.
const COMPILE_ERRORS: [(&str, &str); 4] = [
    (
        "`await` outside an async fn",
        include_str!("../tests/compile_fail/await_outside_async.stderr"),
    ),
    (
        "`async fn main` without a runtime",
        include_str!("../tests/compile_fail/async_main.stderr"),
    ),
    (
        "a future never awaited (unused_must_use denied)",
        include_str!("../tests/compile_fail/future_not_awaited.stderr"),
    ),
    (
        "a std MutexGuard held across `.await` in a spawned task",
        include_str!("../tests/compile_fail/std_guard_across_await.stderr"),
    ),
];

fn main() -> ExitCode {
    #[cfg(feature = "console")]
    console_subscriber::init(); // before run_sync's subscriber, which then stays out
    app::run_sync(|| run(&Args::parse()))
}

fn run(args: &Args) -> anyhow::Result<()> {
    let single = Builder::new_current_thread().enable_all().build()?;
    let multi = Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()?;
    compile_errors();
    forgotten_await(&single);
    runtime_in_a_runtime(&single, &multi)?;
    polled_after_completion();
    lost_wake_up(&single, Duration::from_millis(args.hang_ms));
    blocking_the_runtime(&single, args);
    cancellation(&single);
    sync_and_async(&single)?;
    Ok(())
}

fn compile_errors() {
    println!("Mistakes the compiler refuses (tests/compile_fail):");
    for (mistake, stderr) in COMPILE_ERRORS {
        let first = stderr.lines().next().unwrap_or_default();
        println!("  {mistake}: {first}");
        if let Some(note) = stderr.lines().find(|l| l.contains("= note: futures do")) {
            println!("    {}", note.trim());
        }
    }
}

fn forgotten_await(runtime: &Runtime) {
    let ran = Arc::new(AtomicU64::new(0));
    let work = || {
        let ran = ran.clone();
        async move {
            ran.fetch_add(1, Ordering::Relaxed);
        }
    };
    let forgotten = runtime.block_on(async {
        call_without_await(work);
        tokio::task::yield_now().await;
        let forgotten = ran.load(Ordering::Relaxed);
        work().await;
        forgotten
    });
    println!(
        "forgot .await: the work ran {}; awaited: {}",
        count(forgotten, "time"),
        count(ran.load(Ordering::Relaxed), "time")
    );
}

// ANCHOR: forgotten
/// The mistake: `work()` makes a future, and `let _` drops it at once. An async fn's body
/// runs only when its future is awaited (or polled), so nothing runs.
#[expect(
    clippy::let_underscore_future,
    reason = "the mistake, shown on purpose"
)]
fn call_without_await<F: Future>(work: impl Fn() -> F) {
    let _ = work(); // a future, created and dropped: its body never runs
}
// ANCHOR_END: forgotten

fn runtime_in_a_runtime(single: &Runtime, multi: &Runtime) -> anyhow::Result<()> {
    // Made outside: dropping a runtime inside async code panics too.
    let bridge = SyncBridge::new()?;
    let panic = block_on_inside_async(multi, &bridge);
    println!(
        "block_on inside a runtime panicked: {}",
        first_line(panic.err())
    );
    let fixes = multi.block_on(nested_fixes())?;
    println!(
        "the fixes (.await, spawn, spawn_blocking + Handle::block_on, block_in_place): {fixes:?}; every fix returned 42: {}",
        fixes.iter().all(|&n| n == 42)
    );
    let panic = single.block_on(async {
        expect_panic(|| tokio::task::block_in_place(|| Handle::current().block_on(answer())))
    });
    println!(
        "block_in_place on a current-thread runtime panicked: {}",
        first_line(panic.err())
    );
    Ok(())
}

/// What every way of reaching async code below computes.
async fn answer() -> u32 {
    42
}

// ANCHOR: nested
/// The mistake: a `block_on` inside async code, on one of a runtime's own threads.
fn block_on_inside_async(runtime: &Runtime, bridge: &SyncBridge) -> Result<u32, String> {
    runtime.block_on(async { expect_panic(|| bridge.block_on(answer())) })
}
// ANCHOR_END: nested

// ANCHOR: nested_fixes
/// Four ways to reach async code from async code without nesting runtimes.
async fn nested_fixes() -> anyhow::Result<[u32; 4]> {
    let awaited = answer().await;
    let spawned = Handle::current().spawn(answer()).await?;
    let handle = Handle::current();
    let on_blocking_thread = tokio::task::spawn_blocking(move || handle.block_on(answer())).await?;
    let handle = Handle::current();
    let in_place = tokio::task::block_in_place(|| handle.block_on(answer()));
    Ok([awaited, spawned, on_blocking_thread, in_place])
}
// ANCHOR_END: nested_fixes

fn polled_after_completion() {
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    let (first, again) = poll_after_ready(&mut cx);
    println!(
        "polled after {first:?}: panicked: {}",
        first_line(again.err())
    );
    let (again, is_terminated) = poll_fused_after_ready(&mut cx);
    println!("fused, polled again: {again:?}, is_terminated: {is_terminated}");
}

// ANCHOR: resumed
/// An `async` block polled again after it returned `Ready`: it panics.
fn poll_after_ready(cx: &mut Context<'_>) -> (Poll<u32>, Result<Poll<u32>, String>) {
    let mut future = Box::pin(async { 42 });
    let first = future.as_mut().poll(cx); // Ready(42)
    let again = expect_panic(|| future.as_mut().poll(cx));
    (first, again)
}
// ANCHOR_END: resumed

// ANCHOR: fused
/// The same block made `fuse()`d: polled after `Ready`, it returns `Pending`, and
/// `is_terminated` says why.
fn poll_fused_after_ready(cx: &mut Context<'_>) -> (Poll<u32>, bool) {
    let mut fused = Box::pin(async { 42 }.fuse());
    let _ = fused.as_mut().poll(cx);
    let again = fused.as_mut().poll(cx); // Pending, forever, and it says so
    (again, fused.is_terminated())
}
// ANCHOR_END: fused

fn lost_wake_up(runtime: &Runtime, patience: Duration) {
    let caught = runtime.block_on(wait_on_a_forgetful_gate(patience));
    println!(
        "the lost wake-up was caught by a timeout: {caught} (after {} ms)",
        patience.as_millis()
    );
    let woke = runtime.block_on(async {
        let gate = Gate::new();
        let (waiter, waiting) = spawn_waiter(gate.wait());
        waiting.notified().await;
        gate.open();
        tokio::time::timeout(patience, waiter).await.is_ok()
    });
    println!("with the waker kept, the waiter woke: {woke}");
}

// ANCHOR: lost_wake_up
/// A waiter on a gate that keeps no waker: the gate opens after the waiter's first poll,
/// nothing wakes it, and only the timeout ends the wait. True when the timeout ended it.
async fn wait_on_a_forgetful_gate(patience: Duration) -> bool {
    let gate = ForgetfulGate::new();
    let (waiter, waiting) = spawn_waiter(gate.wait());
    waiting.notified().await; // the waiter has polled once and returned Pending
    gate.open(); // ... but it left no waker, so nothing polls it again
    tokio::time::timeout(patience, waiter).await.is_err()
}
// ANCHOR_END: lost_wake_up

fn blocking_the_runtime(runtime: &Runtime, args: &Args) {
    let work = Duration::from_millis(args.block_ms);
    let detector = SlowPolls::new(Duration::from_millis(args.slow_poll_ms));
    let (late, report) = runtime.block_on(polite_and_rude(&detector, work));
    println!(
        "a task computed for {} ms without .await: the ticker was up to {} ms late",
        work.as_millis(),
        late.as_millis()
    );
    for task in &report {
        println!(
            "  slow task {:?}: {} of {} longer than {} ms, {} ms in all",
            task.name,
            count(task.slow_polls, "poll"),
            task.polls,
            args.slow_poll_ms,
            task.slow_time.as_millis()
        );
    }
    let named = report.len() == 1 && report[0].name == "hasher";
    println!("the slow task named: {named}");
}

// ANCHOR: slow_polls
/// A polite task that awaits often and a rude one that computes for `work` without an
/// `.await`, on one thread, watched by a ticker and by the slow-poll detector.
async fn polite_and_rude(detector: &SlowPolls, work: Duration) -> (Duration, Vec<SlowTask>) {
    let ticker = Ticker::start(Duration::from_millis(10));
    let polite = tokio::spawn(detector.instrument("fetcher", async {
        for _ in 0..10 {
            tokio::time::sleep(Duration::from_millis(2)).await;
        }
    }));
    let rude = tokio::spawn(detector.instrument("hasher", async move {
        busy_for(work) // no `.await` for the whole computation
    }));
    let _ = tokio::join!(polite, rude);
    tokio::time::sleep(Duration::from_millis(20)).await; // a late tick is recorded
    (ticker.worst_lateness(), detector.report())
}
// ANCHOR_END: slow_polls

fn cancellation(runtime: &Runtime) {
    let step = Duration::from_millis(50);
    let cut = Duration::from_millis(10);
    runtime.block_on(async {
        let accounts = naive_transfer_cut_short(step, cut).await;
        report("naive", &accounts, accounts.total() != 200);

        let accounts = Accounts::new([100, 100], step);
        let _ = tokio::time::timeout(cut, accounts.transfer_guarded(0, 1, 50)).await;
        report("guarded", &accounts, accounts.total() != 200);

        let accounts = Accounts::new([100, 100], step);
        let token = CancellationToken::new();
        let cancel_soon = token.clone();
        let cancel = async move {
            tokio::time::sleep(cut).await;
            cancel_soon.cancel();
        };
        let (outcome, ()) = tokio::join!(accounts.transfer_cancellable(0, 1, 50, &token), cancel);
        println!("cancellable transfer, token cancelled: {outcome:?}");
        report("cancellable", &accounts, accounts.total() != 200);

        let accounts = Accounts::new([100, 100], step);
        let _ = tokio::time::timeout(cut, accounts.transfer_in_task(0, 1, 50)).await;
        accounts.finish_transfers().await;
        report("spawned", &accounts, accounts.total() != 200);
    });
}

// ANCHOR: cut_short
/// A transfer of 50 from one account to the other, cut short by a timeout between its
/// two steps.
async fn naive_transfer_cut_short(step: Duration, cut: Duration) -> Accounts {
    let accounts = Accounts::new([100, 100], step);
    let _ = tokio::time::timeout(cut, accounts.transfer_naive(0, 1, 50)).await;
    accounts
}
// ANCHOR_END: cut_short

fn report(variant: &str, accounts: &Accounts, lost: bool) {
    let verdict = if lost {
        "money lost: true"
    } else {
        "nothing lost: true"
    };
    println!(
        "{variant} transfer cut short: {verdict} (balances {:?})",
        accounts.balances()
    );
}

fn sync_and_async(runtime: &Runtime) -> anyhow::Result<()> {
    let got = sync_calls_async()?;
    println!("sync code got {got} from async code: {}", got == 42);
    let size = runtime.block_on(binary_size())?;
    println!(
        "async code got its binary's size, {size} bytes, from blocking std::fs on spawn_blocking"
    );
    Ok(())
}

// ANCHOR: sync_calls_async
/// Sync code asking async code for a value: on a plain thread no runtime runs, so
/// `block_on` may.
fn sync_calls_async() -> anyhow::Result<u32> {
    let bridge = SyncBridge::new()?;
    std::thread::scope(|s| s.spawn(|| bridge.block_on(answer())).join())
        .map_err(|_| anyhow::anyhow!("the sync thread panicked"))
}
// ANCHOR_END: sync_calls_async

// ANCHOR: async_calls_sync
/// Async code calling blocking `std::fs`: on the blocking pool, not on the runtime's.
async fn binary_size() -> anyhow::Result<u64> {
    let metadata =
        tokio::task::spawn_blocking(|| std::env::current_exe().and_then(std::fs::metadata))
            .await??;
    Ok(metadata.len())
}
// ANCHOR_END: async_calls_sync

fn first_line(message: Option<String>) -> String {
    message
        .as_deref()
        .and_then(|m| m.lines().next())
        .unwrap_or("(no panic)")
        .to_owned()
}
