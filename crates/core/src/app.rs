//! What every demo binary does once: set up logging and turn errors into an exit code.
//!
//! ```no_run
//! # async fn demo(_: ()) -> anyhow::Result<()> { Ok(()) }
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     patterns_core::app::run(demo(())).await
//! }
//! ```

use std::any::Any;
use std::future::Future;
use std::panic::{AssertUnwindSafe, catch_unwind, resume_unwind};
use std::process::ExitCode;
use std::sync::Once;

use futures::FutureExt;
use futures::future::{self, Either};

use tracing_subscriber::EnvFilter;

/// Installs the `tracing` subscriber: events go to stderr (stdout stays the demo's
/// output), filtered by `RUST_LOG` (default `info`), and the panic hook that keeps a closed
/// stdout quiet (see [`run`]). Calling it twice is harmless.
pub fn init_tracing() {
    quiet_stdout_failures();
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _already_set = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Prints an error as one line on stderr (`error: outer: cause: root cause`) and maps the
/// result to the process exit code.
/// An [`Interrupted`] demo exits with code 130 (128 + SIGINT), as a shell expects.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) if error.is::<Interrupted>() => {
            eprintln!("error: {error:#}");
            ExitCode::from(130)
        }
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a demo: installs tracing ([`init_tracing`]) before the demo's first poll, awaits
/// it, and turns its result into the exit code ([`exit_code`]).
///
/// `println!` panics when stdout cannot be written. A reader that closed the pipe
/// (`demo | head -1`) has all it wanted: the demo stops quietly with exit code 0. Any other
/// failure to write (`> /dev/full`) is one line on stderr and exit code 1. Either way the
/// demo's future is dropped, so its destructors run (temporary files, servers).
///
/// # Cancel safety
///
/// This function is cancel safe: it holds nothing a drop could lose. Dropped, it drops
/// `demo` wherever it waits (what `demo` had half done is `demo`'s own cancel safety) and
/// prints nothing.
pub async fn run(demo: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    init_tracing();
    match AssertUnwindSafe(demo).catch_unwind().await {
        Ok(result) => exit_code(result),
        Err(panic) => stdout_failure_exit(panic),
    }
}

/// The error of a demo stopped by Ctrl-C ([`interruptible`]).
#[derive(Debug, thiserror::Error)]
#[error("interrupted by Ctrl-C; what was open is released")]
pub struct Interrupted;

/// Runs `demo` until it ends or Ctrl-C comes, for demos that hold resources (temporary
/// files, connections) and have nothing to finish: at Ctrl-C the demo's future is dropped,
/// so its destructors run, and the releases they hand to the runtime are awaited
/// ([`background_releases`](crate::resource::background_releases)) before it returns
/// [`Interrupted`]. Without it, Ctrl-C kills the process and leaves everything behind.
/// A second Ctrl-C stops at once ([`shutdown::ctrl_c`](crate::shutdown::ctrl_c)).
///
/// Demos that drain on Ctrl-C instead use [`Shutdown`](crate::Shutdown).
///
/// # Cancel safety
///
/// This function is cancel safe: it holds nothing a drop could lose. Dropped, it drops
/// `demo` wherever it waits and stops listening for Ctrl-C; the next Ctrl-C then ends the
/// process at once (see [`shutdown::ctrl_c`](crate::shutdown::ctrl_c)).
pub async fn interruptible(demo: impl Future<Output = anyhow::Result<()>>) -> anyhow::Result<()> {
    let ctrl_c = crate::shutdown::ctrl_c()?;
    match future::select(Box::pin(demo), Box::pin(ctrl_c)).await {
        Either::Left((result, _)) => result,
        // The signal stream failed: nothing more to listen to; the demo goes on.
        Either::Right((Err(_), demo)) => demo.await,
        Either::Right((Ok(()), demo)) => {
            drop(demo); // its destructors hand their releases to the runtime
            crate::resource::background_releases().await;
            Err(Interrupted.into())
        }
    }
}

/// [`run`] for a demo without a runtime of its own.
pub fn run_sync(demo: impl FnOnce() -> anyhow::Result<()>) -> ExitCode {
    init_tracing();
    match catch_unwind(AssertUnwindSafe(demo)) {
        Ok(result) => exit_code(result),
        Err(panic) => stdout_failure_exit(panic),
    }
}

/// The exit for a panic that was a failure to write to stdout; any other panic goes on.
fn stdout_failure_exit(panic: Box<dyn Any + Send>) -> ExitCode {
    match stdout_failure(panic.as_ref()) {
        // std's message for EPIPE: the reader is gone and wants nothing more.
        Some(why) if why.starts_with("Broken pipe") => ExitCode::SUCCESS,
        Some(why) => {
            eprintln!("error: cannot write to stdout: {why}");
            ExitCode::FAILURE
        }
        None => resume_unwind(panic),
    }
}

/// The error text of `println!`'s panic, "failed printing to stdout: <error>".
fn stdout_failure(payload: &(dyn Any + Send)) -> Option<&str> {
    let message = payload
        .downcast_ref::<String>()
        .map(String::as_str)
        .or_else(|| payload.downcast_ref::<&str>().copied())?;
    message.strip_prefix("failed printing to stdout: ")
}

/// Keeps the default panic message for every panic but a failure to write to stdout,
/// which [`run`] reports itself (or not at all, for a closed pipe).
fn quiet_stdout_failures() {
    static INSTALLED: Once = Once::new();
    INSTALLED.call_once(|| {
        let default = std::panic::take_hook();
        std::panic::set_hook(Box::new(move |info| {
            if stdout_failure(info.payload()).is_none() {
                default(info);
            }
        }));
    });
}
