//! Child processes: `asyncio.create_subprocess_exec` with `tokio::process::Command`.
//!
//! One difference matters. In asyncio, `wait_for(proc.communicate(), t)` that times out
//! stops waiting, and the child runs on. A tokio `Child` made with `kill_on_drop(true)` is
//! killed when the future that owns it is dropped, so a timeout or a cancellation stops it.

use std::process::{ExitStatus, Output, Stdio};
use std::time::Duration;

use futures::Stream;
use tokio::io::{AsyncBufReadExt, BufReader};
use tokio::process::{Child, Command};
use tokio_stream::wrappers::LinesStream;

/// Why a child's output is missing.
#[derive(Debug, thiserror::Error)]
pub enum ProcessError {
    #[error("cannot run {program}: {reason}")]
    Spawn {
        program: String,
        reason: std::io::Error,
    },
    #[error("{program} did not finish within {limit:?}, and was killed")]
    TimedOut { program: String, limit: Duration },
    #[error("{program} failed ({status}): {stderr}")]
    Failed {
        program: String,
        status: ExitStatus,
        stderr: String,
    },
}

// ANCHOR: output_within
/// Runs `command` to the end and returns its output, as `await proc.communicate()`. A
/// child still running after `limit` is killed, and a non-zero exit is an error carrying
/// its stderr.
///
/// # Cancel safety
///
/// This function is not cancel safe, by design: a drop kills the child (`kill_on_drop`),
/// and its output so far is lost. The child never outlives the caller's interest in it.
pub async fn output_within(mut command: Command, limit: Duration) -> Result<Output, ProcessError> {
    let (program, child) = spawn(command.stderr(Stdio::piped()))?;
    // On timeout, the `wait_with_output` future is dropped, and the child with it: killed.
    let output = tokio::time::timeout(limit, child.wait_with_output())
        .await
        .map_err(|_| ProcessError::TimedOut {
            program: program.clone(),
            limit,
        })?
        .map_err(|reason| ProcessError::Spawn {
            program: program.clone(),
            reason,
        })?;
    if !output.status.success() {
        let stderr = match String::from_utf8_lossy(&output.stderr).trim() {
            "" => "nothing on stderr".to_owned(),
            text => text.to_owned(),
        };
        return Err(ProcessError::Failed {
            program,
            status: output.status,
            stderr,
        });
    }
    Ok(output)
}
// ANCHOR_END: output_within

// ANCHOR: lines
/// The child's stdout, line by line, as it writes them: `async for line in proc.stdout`.
/// The stream owns the child; dropping it kills the child.
pub fn lines(
    mut command: Command,
) -> Result<impl Stream<Item = std::io::Result<String>>, ProcessError> {
    let (_, mut child) = spawn(&mut command)?;
    let stdout = child.stdout.take().expect("spawn pipes stdout");
    let lines = LinesStream::new(BufReader::new(stdout).lines());
    // The child rides along with the stream, so both are dropped together.
    Ok(futures::StreamExt::map(lines, move |line| {
        let _owner = &child;
        line
    }))
}
// ANCHOR_END: lines

// ANCHOR: spawn
/// Starts `command` with stdout piped, no stdin, and killed when its `Child` is dropped;
/// returns the program's name for errors.
fn spawn(command: &mut Command) -> Result<(String, Child), ProcessError> {
    let program = command
        .as_std()
        .get_program()
        .to_string_lossy()
        .into_owned();
    command
        .kill_on_drop(true)
        .stdin(Stdio::null())
        .stdout(Stdio::piped());
    match command.spawn() {
        Ok(child) => Ok((program, child)),
        Err(reason) => Err(ProcessError::Spawn { program, reason }),
    }
}
// ANCHOR_END: spawn
