//! The app's lifespan: what starts before the first request and stops after the last
//! (FastAPI's `lifespan` context manager, aiohttp's `cleanup_ctx`). Here: the store is
//! opened and migrated, and a background task publishes a summary now and then; at
//! shutdown the task is cancelled and awaited, then the pool is closed.

use std::time::Duration;

use patterns_core::shutdown::{Shutdown, ShutdownReport};
use tokio_util::sync::CancellationToken;

use crate::AppState;
use crate::events::Events;
use crate::model::Update;
use crate::store::{Store, StoreError};

/// What the lifespan opens and runs.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LifespanConfig {
    /// The database: `sqlite:...` or `postgres://...`.
    pub database_url: String,
    /// The pool's size.
    pub max_connections: u32,
    /// Time between two summaries on the event stream.
    pub summary_every: Duration,
    /// Updates kept for a slow event listener before it skips ahead.
    pub event_backlog: usize,
}

/// The running app's background work, to be shut down once the server has stopped.
#[derive(Debug)]
pub struct Lifespan {
    tasks: Shutdown,
    store: Store,
}

impl Lifespan {
    // ANCHOR: start
    /// Opens the store and starts the background task; returns the state the handlers
    /// share, and the lifespan to shut down at the end.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: before it returns, nothing has started but the pool,
    /// which a drop closes.
    pub async fn start(config: &LifespanConfig) -> Result<(AppState, Self), StoreError> {
        let store = Store::open(&config.database_url, config.max_connections).await?;
        let tasks = Shutdown::new();
        let events = Events::new(config.event_backlog, tasks.token());
        tasks.spawn(publish_summaries(
            store.clone(),
            events.clone(),
            config.summary_every,
            tasks.token(),
        ));
        let state = AppState {
            store: store.clone(),
            events,
        };
        Ok((state, Self { tasks, store }))
    }
    // ANCHOR_END: start

    /// The signal that the server is stopping: triggered by [`Lifespan::stop`]; the
    /// server, the event streams and the background task all watch it.
    pub fn stopping(&self) -> CancellationToken {
        self.tasks.token()
    }

    /// Says the server is stopping: event streams end, the server stops accepting.
    pub fn stop(&self) {
        self.tasks.trigger();
    }

    // ANCHOR: shut_down
    /// Stops the background task (waiting up to `grace`, then aborting it), then closes
    /// the pool.
    ///
    /// # Cancel safety
    ///
    /// This method is not cancel safe: the stop is triggered at the first poll and stays.
    /// Dropped during the wait, the task runs on and the pool stays open until the
    /// store's last clone is dropped.
    pub async fn shut_down(self, grace: Duration) -> ShutdownReport {
        let report = self.tasks.shutdown(grace).await;
        self.store.close().await;
        report
    }
    // ANCHOR_END: shut_down
}

// ANCHOR: background
/// Every `every`, the number of orders and their total, to every event listener. A
/// failed read is logged and tried again next time; the task ends when the app stops.
async fn publish_summaries(store: Store, events: Events, every: Duration, stop: CancellationToken) {
    let mut ticks = tokio::time::interval(every);
    ticks.set_missed_tick_behavior(tokio::time::MissedTickBehavior::Delay);
    ticks.tick().await; // the first tick is immediate; the first summary waits `every`
    loop {
        tokio::select! {
            () = stop.cancelled() => return,
            _ = ticks.tick() => {}
        }
        match store.summary().await {
            Ok((orders, revenue_cents)) => {
                events.publish(Update::Summary {
                    orders,
                    revenue_cents,
                });
            }
            Err(error) => tracing::warn!(%error, "summary failed; trying again next time"),
        }
    }
}
// ANCHOR_END: background
