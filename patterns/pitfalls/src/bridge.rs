//! "This event loop is already running": async code called from a synchronous program
//! goes through a runtime it owns, never one nested inside another.

use std::future::Future;

use tokio::runtime::Runtime;

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
