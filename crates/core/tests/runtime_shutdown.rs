//! A resource still held by a task when the runtime shuts down (what happens when
//! `#[tokio::main]` returns with tasks running): its release cannot run any more, and an
//! `ERROR` event says the resource leaked. In a file of its own, because it installs the
//! process's global `tracing` subscriber to read the events of every worker thread.

mod common;

use std::io::Write;
use std::sync::{Arc, Mutex};

use common::{Journal, Probe};
use patterns_core::{ExitStack, scoped};
use tokio::runtime::{Builder, Runtime};

/// Everything the global subscriber writes, as text.
#[derive(Clone, Default)]
struct Logs(Arc<Mutex<Vec<u8>>>);

impl Logs {
    fn install() -> Self {
        let logs = Self::default();
        let writer = logs.clone();
        tracing_subscriber::fmt()
            .with_writer(move || writer.clone())
            .with_ansi(false)
            .init();
        logs
    }
    fn take(&self) -> String {
        String::from_utf8(std::mem::take(&mut *self.0.lock().unwrap())).unwrap()
    }
}

impl Write for Logs {
    fn write(&mut self, bytes: &[u8]) -> std::io::Result<usize> {
        self.0.lock().unwrap().extend_from_slice(bytes);
        Ok(bytes.len())
    }
    fn flush(&mut self) -> std::io::Result<()> {
        Ok(())
    }
}

/// Starts a task that opens `a`, enters it into a scope (or an exit stack) and waits
/// for ever, lets it run until it holds `a`, then drops the runtime.
fn hold_at_shutdown(runtime: Runtime, journal: &Journal, through_exit_stack: bool) {
    let journal = journal.clone();
    runtime.block_on(async move {
        let (held_tx, held) = tokio::sync::oneshot::channel();
        tokio::spawn(async move {
            let probe = Probe::open("a", &journal).await.unwrap();
            if through_exit_stack {
                let mut stack = ExitStack::new();
                stack.push(probe);
                held_tx.send(()).unwrap();
                std::future::pending::<()>().await;
                drop(stack);
            } else {
                let _ = scoped(probe, async |_| {
                    held_tx.send(()).unwrap();
                    std::future::pending::<()>().await;
                    Ok::<_, String>(())
                })
                .await;
            }
        });
        held.await.unwrap();
    });
    drop(runtime);
}

#[test]
fn a_resource_held_at_runtime_shutdown_is_reported_lost() {
    let logs = Logs::install();
    for multi_thread in [false, true] {
        for through_exit_stack in [false, true] {
            let case = format!("multi_thread {multi_thread}, exit stack {through_exit_stack}");
            let runtime = if multi_thread {
                Builder::new_multi_thread()
                    .worker_threads(2)
                    .enable_all()
                    .build()
            } else {
                Builder::new_current_thread().enable_all().build()
            };
            let journal = Journal::default();
            hold_at_shutdown(runtime.unwrap(), &journal, through_exit_stack);
            let events = logs.take();
            assert_eq!(journal.count("start release a"), 0, "{case}: {events}");
            let lost = events.lines().find(|l| {
                l.contains("ERROR")
                    && l.contains("resource leaked")
                    && l.contains("runtime shut down")
            });
            assert!(lost.is_some(), "{case}: no ERROR event says so:\n{events}");
        }
    }
}
