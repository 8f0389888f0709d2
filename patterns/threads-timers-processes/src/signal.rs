//! `loop.add_signal_handler(signal.SIGTERM, ...)`: the signal a service manager
//! (systemd, Kubernetes, Docker) sends to stop a process, and Ctrl-C, as one future.

// ANCHOR: stop_signal
/// Waits for SIGTERM or SIGINT (Ctrl-C) and returns its name. The handlers are installed
/// when this is called, not when the future is first awaited, so a signal that comes
/// between the two is not missed.
///
/// Once tokio handles a signal, it does so for the life of the process: these signals no
/// longer kill it, even after the future is dropped. Keep the future until shutdown, and
/// exit when it fires.
#[cfg(unix)]
pub fn stop_signal() -> std::io::Result<impl Future<Output = &'static str> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut terminate = signal(SignalKind::terminate())?;
    let mut interrupt = signal(SignalKind::interrupt())?;
    Ok(async move {
        tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        }
    })
}
// ANCHOR_END: stop_signal
