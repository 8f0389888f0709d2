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
use std::task::Context;
use std::time::Duration;

use blocking::{Ticker, busy_for};
use clap::Parser;
use futures::FutureExt;
use futures::future::FusedFuture;
use patterns_core::{app, cli::count};
use pitfalls::{Accounts, ForgetfulGate, Gate, SlowPolls, SyncBridge, expect_panic, spawn_waiter};
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
        // ANCHOR: forgotten
        #[expect(
            clippy::let_underscore_future,
            reason = "the mistake, shown on purpose"
        )]
        let _ = work(); // a future, created and dropped: its body never runs
        // ANCHOR_END: forgotten
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

fn runtime_in_a_runtime(single: &Runtime, multi: &Runtime) -> anyhow::Result<()> {
    let answer = || async { 42 };
    // Made outside: dropping a runtime inside async code panics too.
    let bridge = SyncBridge::new()?;
    // ANCHOR: nested
    let panic = multi.block_on(async { expect_panic(|| bridge.block_on(answer())) });
    // ANCHOR_END: nested
    println!(
        "block_on inside a runtime panicked: {}",
        first_line(panic.err())
    );
    let fixes = multi.block_on(async {
        // ANCHOR: nested_fixes
        let awaited = answer().await;
        let spawned = Handle::current().spawn(answer()).await?;
        let handle = Handle::current();
        let on_blocking_thread =
            tokio::task::spawn_blocking(move || handle.block_on(answer())).await?;
        let handle = Handle::current();
        let in_place = tokio::task::block_in_place(|| handle.block_on(answer()));
        // ANCHOR_END: nested_fixes
        anyhow::Ok([awaited, spawned, on_blocking_thread, in_place])
    })?;
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

fn polled_after_completion() {
    let waker = futures::task::noop_waker();
    let mut cx = Context::from_waker(&waker);
    // ANCHOR: resumed
    let mut future = Box::pin(async { 42 });
    let first = future.as_mut().poll(&mut cx); // Ready(42)
    let again = expect_panic(|| future.as_mut().poll(&mut cx));
    // ANCHOR_END: resumed
    println!(
        "polled after {first:?}: panicked: {}",
        first_line(again.err())
    );
    // ANCHOR: fused
    let mut fused = Box::pin(async { 42 }.fuse());
    let _ = fused.as_mut().poll(&mut cx);
    let again = fused.as_mut().poll(&mut cx); // Pending, forever, and it says so
    // ANCHOR_END: fused
    println!(
        "fused, polled again: {again:?}, is_terminated: {}",
        fused.is_terminated()
    );
}

fn lost_wake_up(runtime: &Runtime, patience: Duration) {
    let caught = runtime.block_on(async {
        // ANCHOR: lost_wake_up
        let gate = ForgetfulGate::new();
        let (waiter, waiting) = spawn_waiter(gate.wait());
        waiting.notified().await; // the waiter has polled once and returned Pending
        gate.open(); // ... but it left no waker, so nothing polls it again
        tokio::time::timeout(patience, waiter).await.is_err()
        // ANCHOR_END: lost_wake_up
    });
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

fn blocking_the_runtime(runtime: &Runtime, args: &Args) {
    let work = Duration::from_millis(args.block_ms);
    let detector = SlowPolls::new(Duration::from_millis(args.slow_poll_ms));
    let (late, report) = runtime.block_on(async {
        // ANCHOR: slow_polls
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
        // ANCHOR_END: slow_polls
    });
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

fn cancellation(runtime: &Runtime) {
    let step = Duration::from_millis(50);
    let cut = Duration::from_millis(10);
    runtime.block_on(async {
        // ANCHOR: cut_short
        let accounts = Accounts::new([100, 100], step);
        let _ = tokio::time::timeout(cut, accounts.transfer_naive(0, 1, 50)).await;
        // ANCHOR_END: cut_short
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
    // ANCHOR: sync_calls_async
    let bridge = SyncBridge::new()?;
    let got = std::thread::scope(|s| {
        // a plain thread: no runtime runs here, so block_on may
        s.spawn(|| bridge.block_on(async { 42 })).join()
    })
    .map_err(|_| anyhow::anyhow!("the sync thread panicked"))?;
    // ANCHOR_END: sync_calls_async
    println!("sync code got {got} from async code: {}", got == 42);
    // ANCHOR: async_calls_sync
    let size = runtime.block_on(async {
        // std::fs blocks its thread: on the blocking pool, not on the runtime's
        tokio::task::spawn_blocking(|| std::env::current_exe().and_then(std::fs::metadata)).await
    })??;
    // ANCHOR_END: async_calls_sync
    println!(
        "async code got its binary's size, {} bytes, from blocking std::fs on spawn_blocking",
        size.len()
    );
    Ok(())
}

fn first_line(message: Option<String>) -> String {
    message
        .as_deref()
        .and_then(|m| m.lines().next())
        .unwrap_or("(no panic)")
        .to_owned()
}
