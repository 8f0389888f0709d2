//! What every demo binary does once: set up logging and turn errors into an exit code.
//!
//! ```no_run
//! # async fn demo(_: ()) -> anyhow::Result<()> { Ok(()) }
//! #[tokio::main]
//! async fn main() -> std::process::ExitCode {
//!     patterns_core::app::run(demo(())).await
//! }
//! ```

use std::future::Future;
use std::process::ExitCode;

use tracing_subscriber::EnvFilter;

/// Installs the `tracing` subscriber: events go to stderr (stdout stays the demo's
/// output), filtered by `RUST_LOG` (default `info`). Calling it twice is harmless.
pub fn init_tracing() {
    let filter = EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new("info"));
    let _already_set = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_writer(std::io::stderr)
        .with_target(false)
        .try_init();
}

/// Prints an error as one line on stderr (`error: outer: cause: root cause`) and maps the
/// result to the process exit code.
pub fn exit_code(result: anyhow::Result<()>) -> ExitCode {
    match result {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

/// Runs a demo: installs tracing ([`init_tracing`]) before the demo's first poll, awaits
/// it, and turns its result into the exit code ([`exit_code`]).
///
/// # Cancel safety
///
/// Dropping the returned future drops `demo` wherever it is waiting; nothing is printed.
pub async fn run(demo: impl Future<Output = anyhow::Result<()>>) -> ExitCode {
    init_tracing();
    exit_code(demo.await)
}
