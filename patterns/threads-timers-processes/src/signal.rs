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
///
/// # Cancel safety
///
/// This function is not cancel safe: its future, dropped before a signal came, cannot give
/// the signals back to the system, because tokio never removes a handler. So the drop
/// hands the handlers to a task that ends the process at the next signal, with the
/// shell's exit code for it (143 for SIGTERM, 130 for SIGINT), as the default action would
/// have; the clean-up the caller meant to do at that signal is lost.
#[cfg(unix)]
pub fn stop_signal() -> std::io::Result<impl Future<Output = &'static str> + Send + 'static> {
    use tokio::signal::unix::{SignalKind, signal};
    let mut handlers = Handlers(Some((
        signal(SignalKind::terminate())?,
        signal(SignalKind::interrupt())?,
    )));
    Ok(async move {
        let (terminate, interrupt) = handlers.0.as_mut().expect("present until dropped");
        let name = tokio::select! {
            _ = terminate.recv() => "SIGTERM",
            _ = interrupt.recv() => "SIGINT",
        };
        drop(handlers.0.take()); // caught: what follows is the caller's to decide
        name
    })
}
// ANCHOR_END: stop_signal

/// The handlers of a [`stop_signal`] future that has not fired yet. Dropped, they leave a
/// task that ends the process at the next signal, as if no handler had been installed.
#[cfg(unix)]
struct Handlers(Option<(tokio::signal::unix::Signal, tokio::signal::unix::Signal)>);

#[cfg(unix)]
impl Drop for Handlers {
    fn drop(&mut self) {
        if let Some((mut terminate, mut interrupt)) = self.0.take()
            && let Ok(runtime) = tokio::runtime::Handle::try_current()
        {
            runtime.spawn(async move {
                let code = tokio::select! {
                    _ = terminate.recv() => 128 + 15,
                    _ = interrupt.recv() => 128 + 2,
                };
                std::process::exit(code);
            });
        }
    }
}
