//! One connection as a pair of tasks: a reader and a writer, as the tutorials' servers have
//! one coroutine reading while the broadcast writes.

use std::future::Future;
use std::panic::AssertUnwindSafe;

use futures::FutureExt;
use tokio::sync::oneshot;
use tokio_util::task::AbortOnDropHandle;

/// The reader panicked (a bug): the writer closes the connection with an error.
#[derive(Debug)]
pub(crate) struct ReaderPanicked;

/// What the writer hears from the reader: its result, or that it panicked. A channel that
/// closes with neither means the reader was aborted, which happens only when the pair is
/// dropped: the writer is aborted too, and has nobody to say goodbye to.
pub(crate) type FromReader<T> = oneshot::Receiver<Result<T, ReaderPanicked>>;

/// Runs `reader` and `writer` as two tasks and returns the writer's outcome.
///
/// The reader's result is handed to the writer, which decides how to say goodbye (a Close
/// frame with a code, a last line). When the writer ends, the reader is aborted. If the
/// reader panics, the writer is told so and closes the connection; if the writer panics, the panic is returned as an error. Either way both tasks are gone and
/// the member they hold has left the hub.
///
/// # Cancel safety
///
/// This function is not cancel safe: a drop aborts both tasks, which closes the
/// connection, and whatever the writer had still to send is lost.
pub(crate) async fn run_reader_and_writer<T, R, W>(
    reader: R,
    writer: impl FnOnce(FromReader<T>) -> W,
) -> Result<W::Output, tokio::task::JoinError>
where
    T: Send + 'static,
    R: Future<Output = T> + Send + 'static,
    W: Future + Send + 'static,
    W::Output: Send + 'static,
{
    let (done_tx, done_rx) = oneshot::channel();
    let _reader = AbortOnDropHandle::new(tokio::spawn(async move {
        // A panic is sent as such: a closed channel alone would look like an abort.
        let ended = AssertUnwindSafe(reader).catch_unwind().await;
        let _ = done_tx.send(ended.map_err(|_| ReaderPanicked));
    }));
    let writer = AbortOnDropHandle::new(tokio::spawn(writer(done_rx)));
    writer.await
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test]
    async fn the_writer_hears_the_readers_result_or_its_panic() {
        let heard = run_reader_and_writer(async { 7 }, |from_reader| async move {
            from_reader.await.map(|ended| ended.ok())
        });
        assert_eq!(heard.await.unwrap(), Ok(Some(7)));
        // A panic is told as such, not as the closed channel an abort leaves.
        let reader = async { panic!("a reader bug") };
        let heard = run_reader_and_writer(reader, |from_reader: FromReader<()>| async move {
            matches!(from_reader.await, Ok(Err(ReaderPanicked)))
        });
        assert!(heard.await.unwrap());
    }
}
