//! One connection as a pair of tasks: a reader and a writer, as the tutorials' servers have
//! one coroutine reading while the broadcast writes.

use std::future::Future;

use tokio::sync::oneshot;
use tokio_util::task::AbortOnDropHandle;

/// Runs `reader` and `writer` as two tasks and returns the writer's outcome.
///
/// The reader's result is handed to the writer, which decides how to say goodbye (a Close
/// frame with a code, a last line). When the writer ends, the reader is aborted. If the
/// reader panics, the writer sees its channel closed and closes the connection; if the
/// writer panics, the panic is returned as an error. Either way both tasks are gone and
/// the member they hold has left the hub.
///
/// # Cancel safety
///
/// This function is not cancel safe: a drop aborts both tasks, which closes the
/// connection, and whatever the writer had still to send is lost.
pub(crate) async fn run_reader_and_writer<T, R, W>(
    reader: R,
    writer: impl FnOnce(oneshot::Receiver<T>) -> W,
) -> Result<W::Output, tokio::task::JoinError>
where
    T: Send + 'static,
    R: Future<Output = T> + Send + 'static,
    W: Future + Send + 'static,
    W::Output: Send + 'static,
{
    let (done_tx, done_rx) = oneshot::channel();
    let _reader = AbortOnDropHandle::new(tokio::spawn(async move {
        let _ = done_tx.send(reader.await);
    }));
    let writer = AbortOnDropHandle::new(tokio::spawn(writer(done_rx)));
    writer.await
}
