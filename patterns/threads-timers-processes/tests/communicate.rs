//! `proc.communicate(input=data)`: a child's stdin written while its stdout is read, a
//! non-zero exit kept as a value, and the signal that killed a child.

use std::io;
use std::os::unix::process::ExitStatusExt;
use std::process::{ExitStatus, Stdio};

use tokio::io::AsyncWriteExt;
use tokio::process::Command;

// ANCHOR: communicate
/// `await proc.communicate(input=data)`: writes `input` to the child's stdin, closes it
/// (the child sees the end), and reads its stdout at the same time, so neither side waits
/// on a full pipe. The exit status is a value: a non-zero exit is not an error here.
async fn communicate(command: &mut Command, input: &[u8]) -> io::Result<(ExitStatus, Vec<u8>)> {
    let mut child = command
        .stdin(Stdio::piped())
        .stdout(Stdio::piped())
        .kill_on_drop(true)
        .spawn()?;
    let mut stdin = child.stdin.take().expect("stdin is piped");
    let input = input.to_vec();
    let writing = async move {
        stdin.write_all(&input).await?;
        drop(stdin); // closed: the child's read sees the end
        io::Result::Ok(())
    };
    let (written, output) = tokio::join!(writing, child.wait_with_output());
    let output = output?;
    // A child that exits without reading all of its input breaks the pipe; that is its
    // business, and its status says how it ended.
    if let Err(e) = written
        && e.kind() != io::ErrorKind::BrokenPipe
    {
        return Err(e);
    }
    Ok((output.status, output.stdout))
}
// ANCHOR_END: communicate

#[tokio::test]
async fn a_megabyte_goes_in_and_comes_back_through_both_pipes_at_once() {
    // More than a pipe holds (64 KiB): writing all of it before reading would deadlock.
    let input: Vec<u8> = (0..1 << 20).map(|i| (i % 251) as u8).collect();
    let (status, output) = communicate(&mut Command::new("cat"), &input).await.unwrap();
    assert!(status.success());
    assert_eq!(output, input);
}

// ANCHOR: status
#[tokio::test]
async fn a_non_zero_exit_and_a_killing_signal_are_values() {
    let mut failing = Command::new("sh");
    failing.args(["-c", "read line; echo \"got $line\"; exit 3"]);
    let (status, output) = communicate(&mut failing, b"hello\n").await.unwrap();
    assert_eq!((status.success(), status.code()), (false, Some(3))); // returncode == 3
    assert_eq!(output, b"got hello\n");

    let mut killed = Command::new("sh");
    killed.args(["-c", "kill -TERM $$"]);
    let (status, _) = communicate(&mut killed, b"").await.unwrap();
    // returncode == -15 in Python: no exit code, and the signal that ended it.
    assert_eq!((status.code(), status.signal()), (None, Some(15)));
}
// ANCHOR_END: status
