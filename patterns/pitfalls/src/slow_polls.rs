//! Blocking the runtime, measured and named: each task timed by a tokio-metrics
//! `TaskMonitor`, and the ones with slow polls listed.

use std::collections::BTreeMap;
use std::future::Future;
use std::sync::Mutex;
use std::time::Duration;

use tokio_metrics::TaskMonitor;

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
