//! Ignoring cancellation: a transfer that a dropped future cuts in half, and three fixes
//! (a drop guard, a cancellation token, a task of its own).

use std::sync::{Arc, Mutex};
use std::time::Duration;

use tokio::task::JoinError;
use tokio_util::sync::CancellationToken;
use tokio_util::task::TaskTracker;

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
