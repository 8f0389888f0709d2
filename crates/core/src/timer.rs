//! A timing guard: the `async with timer("label"):` context manager of the tutorials.
//!
//! Its exit needs no `await`, so a plain Rust guard does the whole job: start it, and when
//! it is dropped (or [`Timer::stop`]ped) it records the elapsed time on its `tracing` span
//! and logs one event. It reads [`tokio::time::Instant`], so under paused time in tests it
//! measures virtual time exactly.

use std::future::Future;
use std::time::Duration;

use tokio::time::Instant;
use tracing::{Instrument, Span};

// ANCHOR: timer
/// Measures the time from [`Timer::start`] to its drop or [`Timer::stop`], and reports
/// it as a `finished` event, with an `elapsed_ms` field, inside a `timer{label}` span.
#[derive(Debug)]
pub struct Timer {
    label: String,
    started: Instant,
    span: Span,
    reported: bool,
}

impl Timer {
    /// Starts timing.
    pub fn start(label: impl Into<String>) -> Self {
        let label = label.into();
        let span = tracing::info_span!("timer", label = %label);
        tracing::debug!(parent: &span, "started");
        Self {
            label,
            started: Instant::now(),
            span,
            reported: false,
        }
    }
    // ANCHOR_END: timer

    /// What is being timed.
    pub fn label(&self) -> &str {
        &self.label
    }

    /// Time since start, without stopping.
    pub fn elapsed(&self) -> Duration {
        self.started.elapsed()
    }

    /// The span the timer reports on; instrument work with it to group its events.
    pub fn span(&self) -> &Span {
        &self.span
    }

    /// Stops the timer, reports, and returns the elapsed time.
    pub fn stop(mut self) -> Duration {
        self.report()
    }

    // ANCHOR: timer_report
    fn report(&mut self) -> Duration {
        let elapsed = self.elapsed();
        if !self.reported {
            self.reported = true;
            // Microsecond precision is plenty for a log line.
            let millis = (elapsed.as_secs_f64() * 1_000_000.0).round() / 1000.0;
            tracing::info!(parent: &self.span, elapsed_ms = millis, "finished");
        }
        elapsed
    }
}

impl Drop for Timer {
    fn drop(&mut self) {
        self.report();
    }
}
// ANCHOR_END: timer_report

// ANCHOR: timed
/// Awaits `work` inside a [`Timer`] and returns its output with the elapsed time.
///
/// # Cancel safety
///
/// This function is cancel safe: it holds nothing a drop could lose. Dropped, it drops
/// `work` wherever it waits (what `work` had half done is `work`'s own cancel safety), and
/// the timer, dropped too, still logs the time until then.
pub async fn timed<T>(label: impl Into<String>, work: impl Future<Output = T>) -> (T, Duration) {
    let timer = Timer::start(label);
    let output = work.instrument(timer.span().clone()).await;
    (output, timer.stop())
}
// ANCHOR_END: timed
