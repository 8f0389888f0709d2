//! The mistakes every asyncio learner makes, what Rust does with each, and the fix.
//!
//! Some of them Rust refuses to compile; the compile-fail tests in `tests/compile_fail/`
//! keep the compiler's own words. The others happen at run time, and this library holds
//! their fixes, small enough to copy:
//!
//! - [`expect_panic`]: runs code that panics on purpose and returns the panic's message,
//!   so a demo or a test can show a panic without a backtrace on the terminal;
//! - [`SyncBridge`]: async code called from a synchronous program, on a runtime it owns
//!   (the fix for "Cannot start a runtime from within a runtime");
//! - [`Gate`] and [`ForgetfulGate`]: a hand-written future that arranges its wake-up, and
//!   the same future without it, which hangs;
//! - [`SlowPolls`]: names the task that blocks its thread (tokio-metrics' slow polls);
//! - [`Accounts`]: a transfer that a cancellation cuts in half, and three fixes.
//!
//! Run the demo with `cargo run -p pitfalls`.

use std::cell::Cell;
use std::collections::BTreeMap;
use std::future::Future;
use std::pin::Pin;
use std::sync::atomic::{AtomicBool, Ordering};
use std::sync::{Arc, Mutex, Once};
use std::task::{Context, Poll};
use std::time::Duration;

use futures::task::AtomicWaker;
use patterns_core::error::panic_message;
use tokio::runtime::Runtime;
use tokio::task::JoinError;
use tokio_metrics::TaskMonitor;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

thread_local! {
    static PANIC_EXPECTED: Cell<bool> = const { Cell::new(false) };
}

// ANCHOR: expect_panic
/// Runs `f`, which is expected to panic, and returns the panic's message; `Ok` if it did
/// not panic. The message is not printed: the panic hook stays quiet for this thread while
/// `f` runs, and prints every other panic as before.
pub fn expect_panic<R>(f: impl FnOnce() -> R) -> Result<R, String> {
    static QUIET_HOOK: Once = Once::new();
    QUIET_HOOK.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if !PANIC_EXPECTED.with(Cell::get) {
                default(info);
            }
        }));
    });
    let expected_before = PANIC_EXPECTED.with(|e| e.replace(true));
    let outcome = std::panic::catch_unwind(std::panic::AssertUnwindSafe(f));
    PANIC_EXPECTED.with(|e| e.set(expected_before));
    outcome.map_err(|payload| panic_message(payload.as_ref()))
}
// ANCHOR_END: expect_panic

// ANCHOR: bridge
/// Async code called from a synchronous program (a CLI, a test, a C callback), on a
/// runtime the bridge owns. `reqwest::blocking` is built this way.
///
/// Its [`block_on`](Self::block_on) must run where no runtime is running: on a thread a
/// runtime drives it panics with "Cannot start a runtime from within a runtime", Tokio's
/// "This event loop is already running". From async code, `.await` the future instead; from
/// a `spawn_blocking` closure, use `Handle::block_on` of the runtime you are on.
#[derive(Debug)]
pub struct SyncBridge {
    runtime: Runtime,
}

impl SyncBridge {
    /// A bridge with a current-thread runtime: `block_on` drives it on the caller's thread.
    pub fn new() -> std::io::Result<Self> {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        Ok(Self { runtime })
    }

    /// Runs `future` to completion and returns its output.
    ///
    /// # Panics
    ///
    /// When called on a thread that is already driving a runtime (see the type's docs).
    pub fn block_on<F: Future>(&self, future: F) -> F::Output {
        self.runtime.block_on(future)
    }
}
// ANCHOR_END: bridge

/// A gate that tasks wait at until some thread opens it: a hand-written future done right.
/// `poll` stores the task's waker *before* it checks the flag, and `open` wakes it, so a
/// task that saw the gate closed is always woken when it opens.
#[derive(Debug, Clone, Default)]
pub struct Gate {
    inner: Arc<GateState>,
}

#[derive(Debug, Default)]
struct GateState {
    open: AtomicBool,
    waker: AtomicWaker,
}

impl Gate {
    /// A closed gate.
    pub fn new() -> Self {
        Self::default()
    }

    // ANCHOR: gate_open
    /// Opens the gate, from any thread, and wakes the task waiting at it.
    pub fn open(&self) {
        self.inner.open.store(true, Ordering::Release);
        self.inner.waker.wake();
    }
    // ANCHOR_END: gate_open

    /// A future that is ready once the gate is open (one waiting task at a time).
    pub fn wait(&self) -> GateWait {
        GateWait {
            inner: self.inner.clone(),
        }
    }
}

/// What [`Gate::wait`] returns.
#[derive(Debug)]
pub struct GateWait {
    inner: Arc<GateState>,
}

// ANCHOR: gate
impl Future for GateWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, cx: &mut Context<'_>) -> Poll<()> {
        // Register first: an `open` between the check and the registration would be missed.
        self.inner.waker.register(cx.waker());
        if self.inner.open.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending
        }
    }
}
// ANCHOR_END: gate

/// The same gate with the classic bug: its future returns `Pending` without keeping the
/// waker, so nothing ever polls it again. A task waiting at it hangs even after the gate
/// opens; no error, no panic. Kept to show the bug: use [`Gate`].
#[derive(Debug, Clone, Default)]
pub struct ForgetfulGate {
    open: Arc<AtomicBool>,
}

impl ForgetfulGate {
    /// A closed gate.
    pub fn new() -> Self {
        Self::default()
    }

    /// Opens the gate, but cannot wake anyone: nobody left a waker.
    pub fn open(&self) {
        self.open.store(true, Ordering::Release);
    }

    /// A future that is ready if the gate is open *when it is polled*.
    pub fn wait(&self) -> ForgetfulWait {
        ForgetfulWait {
            open: self.open.clone(),
        }
    }
}

/// What [`ForgetfulGate::wait`] returns.
#[derive(Debug)]
pub struct ForgetfulWait {
    open: Arc<AtomicBool>,
}

// ANCHOR: forgetful
impl Future for ForgetfulWait {
    type Output = ();

    fn poll(self: Pin<&mut Self>, _cx: &mut Context<'_>) -> Poll<()> {
        if self.open.load(Ordering::Acquire) {
            Poll::Ready(())
        } else {
            Poll::Pending // the bug: `_cx.waker()` is dropped, so no wake-up will come
        }
    }
}
// ANCHOR_END: forgetful

/// Spawns a task that awaits `wait`, and returns its handle with a signal that fires once
/// the task has polled `wait` the first time: a lost wake-up can then be shown on purpose,
/// by opening a gate after that first poll.
pub fn spawn_waiter(
    wait: impl Future<Output = ()> + Send + 'static,
) -> (tokio::task::JoinHandle<()>, Arc<tokio::sync::Notify>) {
    let waiting = Arc::new(tokio::sync::Notify::new());
    let signal = waiting.clone();
    let waiter = tokio::spawn(async move {
        signal.notify_one(); // kept as a permit if nobody listens yet
        wait.await; // polled in this same turn, before the task first yields
    });
    (waiter, waiting)
}

/// Names the tasks that block their thread: each task is instrumented with a tokio-metrics
/// `TaskMonitor` of its own, which counts the polls that took longer than a threshold. A
/// poll is the time between two `.await`s, so a slow poll is blocking code in that task.
/// asyncio's debug mode does the same for callbacks (`slow_callback_duration`).
///
/// A poll is recorded when it returns: one that panics is not counted. Its panic reaches
/// the task's `JoinHandle` (or the caller of a future awaited in place) as usual.
#[derive(Debug)]
pub struct SlowPolls {
    threshold: Duration,
    monitors: Mutex<BTreeMap<String, TaskMonitor>>,
}

/// A task that had slow polls, as [`SlowPolls::report`] lists it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct SlowTask {
    /// The name the task was instrumented under.
    pub name: String,
    /// Polls longer than the threshold.
    pub slow_polls: u64,
    /// The time those polls took together.
    pub slow_time: Duration,
    /// All its polls.
    pub polls: u64,
}

impl SlowPolls {
    /// A detector that counts polls longer than `threshold` as slow.
    pub fn new(threshold: Duration) -> Self {
        Self {
            threshold,
            monitors: Mutex::new(BTreeMap::new()),
        }
    }

    // ANCHOR: slow_polls
    /// Wraps `task` so its polls are timed under `name` (several tasks may share a name).
    pub fn instrument<F: Future>(&self, name: &str, task: F) -> tokio_metrics::Instrumented<F> {
        let monitor = self
            .monitors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
            .entry(name.to_owned())
            .or_insert_with(|| {
                TaskMonitor::builder()
                    .with_slow_poll_threshold(self.threshold)
                    .clone()
                    .build()
            })
            .clone();
        monitor.instrument(task)
    }
    // ANCHOR_END: slow_polls

    /// The tasks that had at least one slow poll, slowest first.
    pub fn report(&self) -> Vec<SlowTask> {
        let monitors = self
            .monitors
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let mut slow: Vec<SlowTask> = monitors
            .iter()
            .map(|(name, monitor)| {
                let metrics = monitor.cumulative();
                SlowTask {
                    name: name.clone(),
                    slow_polls: metrics.total_slow_poll_count,
                    slow_time: metrics.total_slow_poll_duration,
                    polls: metrics.total_poll_count,
                }
            })
            .filter(|task| task.slow_polls > 0)
            .collect();
        slow.sort_by_key(|task| std::cmp::Reverse(task.slow_time));
        slow
    }
}

/// Two balances and transfers between them, each transfer two steps with an `.await`
/// between (a network call, in a real service). The money in the system must stay the same.
#[derive(Debug, Clone)]
pub struct Accounts {
    balances: Arc<Mutex<[u64; 2]>>,
    step: Duration,
    transfers_in_tasks: TaskTracker,
}

/// A transfer that cannot be made, or that did not finish.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum TransferError {
    /// The source holds less than the amount.
    #[error("account {from} holds {balance}, less than {amount}")]
    Insufficient {
        /// The source account.
        from: usize,
        /// Its balance.
        balance: u64,
        /// What was asked for.
        amount: u64,
    },
    /// Cancelled through its token before it finished: its half-done part was undone.
    #[error("cancelled; the withdrawal was refunded")]
    Cancelled,
    /// The task doing the transfer panicked or was aborted: its half-done part was undone.
    #[error("the transfer's task ended early: {0}")]
    TaskEnded(String),
}

impl Accounts {
    /// Two accounts holding `balances`; each transfer step takes `step`.
    pub fn new(balances: [u64; 2], step: Duration) -> Self {
        Self {
            balances: Arc::new(Mutex::new(balances)),
            step,
            transfers_in_tasks: TaskTracker::new(),
        }
    }

    /// The two balances now.
    pub fn balances(&self) -> [u64; 2] {
        *self.lock()
    }

    /// All the money in the system: the invariant every transfer keeps.
    pub fn total(&self) -> u64 {
        self.balances().iter().sum()
    }

    fn lock(&self) -> std::sync::MutexGuard<'_, [u64; 2]> {
        self.balances
            .lock()
            .unwrap_or_else(std::sync::PoisonError::into_inner)
    }

    fn withdraw(&self, from: usize, amount: u64) -> Result<(), TransferError> {
        let mut balances = self.lock();
        let balance = balances[from];
        if balance < amount {
            return Err(TransferError::Insufficient {
                from,
                balance,
                amount,
            });
        }
        balances[from] = balance - amount;
        Ok(())
    }

    fn deposit(&self, to: usize, amount: u64) {
        self.lock()[to] += amount;
    }

    // ANCHOR: transfer_naive
    /// The mistake: withdraw, `.await`, deposit.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe, on purpose: dropped at its `.await` (a `timeout`, a
    /// `select!` that chose another branch, a client that went away) it has withdrawn and
    /// will never deposit, and the money is gone. asyncio's `CancelledError` lands at the
    /// same `await` with the same result unless the coroutine catches it.
    pub async fn transfer_naive(
        &self,
        from: usize,
        to: usize,
        amount: u64,
    ) -> Result<(), TransferError> {
        self.withdraw(from, amount)?;
        tokio::time::sleep(self.step).await; // a cancellation here loses `amount`
        self.deposit(to, amount);
        Ok(())
    }
    // ANCHOR_END: transfer_naive

    // ANCHOR: transfer_guarded
    /// Fix one: a drop guard that puts the money back if the transfer is dropped half-way.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: dropped after the withdrawal, the guard deposits the
    /// amount back into `from`, so a cancelled transfer leaves the balances as they were.
    pub async fn transfer_guarded(
        &self,
        from: usize,
        to: usize,
        amount: u64,
    ) -> Result<(), TransferError> {
        self.withdraw(from, amount)?;
        let refund = RefundOnDrop {
            accounts: self,
            from,
            amount,
        };
        tokio::time::sleep(self.step).await;
        std::mem::forget(refund); // past the `.await`: nothing left to undo
        self.deposit(to, amount);
        Ok(())
    }
    // ANCHOR_END: transfer_guarded

    // ANCHOR: transfer_cancellable
    /// Fix two: cancellation asked for, not imposed. The caller cancels `token`; the
    /// transfer notices at its `.await` and undoes its withdrawal itself, where it could
    /// also `.await` (a drop guard cannot: `Drop` is synchronous).
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: cancel `token` rather than dropping the future.
    /// Cancelled, it refunds and returns [`TransferError::Cancelled`]. Dropped at its
    /// `.await`, it loses the amount like [`transfer_naive`](Self::transfer_naive); combine
    /// it with a guard or a task (below) where a drop can happen.
    pub async fn transfer_cancellable(
        &self,
        from: usize,
        to: usize,
        amount: u64,
        token: &CancellationToken,
    ) -> Result<(), TransferError> {
        self.withdraw(from, amount)?;
        tokio::select! {
            () = tokio::time::sleep(self.step) => {
                self.deposit(to, amount);
                Ok(())
            }
            () = token.cancelled() => {
                self.deposit(from, amount); // an async undo could `.await` here
                Err(TransferError::Cancelled)
            }
        }
    }
    // ANCHOR_END: transfer_cancellable

    // ANCHOR: transfer_in_task
    /// Fix three: the transfer runs in a task of its own, which a dropped caller does not
    /// cancel (`tokio::spawn`; asyncio's `shield` is the nearest idea).
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a losing `select!` branch drops only the wait; the
    /// spawned task finishes the transfer. If that task panics or its runtime shuts down
    /// half-way, the guarded transfer inside it refunds, and the error says so.
    pub async fn transfer_in_task(
        &self,
        from: usize,
        to: usize,
        amount: u64,
    ) -> Result<(), TransferError> {
        let accounts = self.clone();
        self.transfers_in_tasks
            .spawn(async move { accounts.transfer_guarded(from, to, amount).await })
            .await
            .map_err(|e: JoinError| TransferError::TaskEnded(e.to_string()))?
    }
    // ANCHOR_END: transfer_in_task

    /// Waits until every transfer started by [`transfer_in_task`](Self::transfer_in_task)
    /// has ended, including those whose callers went away: what a shutdown waits for.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: it only waits, and a losing `select!` branch leaves the
    /// transfers to carry on.
    pub async fn finish_transfers(&self) {
        self.transfers_in_tasks.close(); // `wait` ends once closed and empty
        self.transfers_in_tasks.wait().await;
        self.transfers_in_tasks.reopen();
    }
}

// ANCHOR: refund
/// Puts `amount` back into `from` unless forgotten: the undo of a half-done transfer.
struct RefundOnDrop<'a> {
    accounts: &'a Accounts,
    from: usize,
    amount: u64,
}

impl Drop for RefundOnDrop<'_> {
    fn drop(&mut self) {
        self.accounts.deposit(self.from, self.amount);
    }
}
// ANCHOR_END: refund
