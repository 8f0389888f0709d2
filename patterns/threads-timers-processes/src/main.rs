//! Demo: timers, plain threads, child processes, signals and task-local context, each run
//! once and checked.
//!
//! ```text
//! cargo run -p threads-timers-processes
//! cargo run -p threads-timers-processes -- --run "ls -l" --limit-ms 500
//! cargo run -p threads-timers-processes -- --until-signal     # then kill -TERM <pid>
//! ```

use std::process::ExitCode;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use clap::Parser;
use patterns_core::app;
use threads_timers_processes::{
    Deadlines, ProcessError, WaitError, call_later, lines, output_within, request_id,
    run_coroutine_threadsafe, spawn_with_request_id, stop_signal, with_request_id,
};
use tokio::process::Command;
use tokio::runtime::Handle;
use tokio::sync::mpsc;
use tokio::time::sleep;

/// Timers, threads, subprocesses, SIGTERM and task-local context.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// A command to run as a child process, with its arguments, split on spaces.
    #[arg(long, default_value = "echo hello from a child process")]
    run: String,
    /// How long the child may run before it is killed, in milliseconds.
    #[arg(long, default_value_t = 2_000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    limit_ms: u64,
    /// Wait for SIGTERM or Ctrl-C instead of sending SIGTERM to ourselves.
    #[arg(long)]
    until_signal: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    // Installed first, so that a SIGTERM during the demo is caught, not fatal.
    let stop = stop_signal()?;
    timers().await?;
    deadlines().await;
    from_a_thread().await?;
    coroutine_from_a_thread().await?;
    child_processes(&args.run, Duration::from_millis(args.limit_ms)).await?;
    context().await?;
    signal(stop, args.until_signal).await
}

async fn timers() -> anyhow::Result<()> {
    let ran = Arc::new(Mutex::new(Vec::new()));
    let mut handles = Vec::new();
    for ms in [30, 10, 40, 20] {
        let ran = ran.clone();
        let record = move || ran.lock().unwrap().push(ms);
        handles.push(call_later(Duration::from_millis(ms), record));
    }
    handles[2].abort(); // `timer_handle.cancel()`: the 40 ms call
    for handle in handles {
        let _ = handle.await; // the cancelled one ends with a cancelled JoinError
    }
    let ran = ran.lock().unwrap().clone();
    println!("call_later: ran in deadline order {ran:?} ms; the cancelled 40 ms call never ran");
    anyhow::ensure!(ran == [10, 20, 30], "timers out of order: {ran:?}");
    Ok(())
}

async fn deadlines() {
    let expired = expire_sessions().await;
    println!("deadlines: expired {expired:?}; c was cancelled");
}

// ANCHOR: sessions
/// Three sessions that expire 30 ms after their last touch: "b" is touched at 10 ms and
/// "c" logs out, so "a" expires, then "b".
async fn expire_sessions() -> Vec<&'static str> {
    let mut sessions = Deadlines::new();
    for name in ["a", "b", "c"] {
        sessions.set(name, Duration::from_millis(30)); // each expires unless touched
    }
    sleep(Duration::from_millis(10)).await;
    sessions.set("b", Duration::from_millis(50)); // "b" is touched: 60 ms from the start
    sessions.cancel(&"c"); // "c" logs out
    let mut expired = Vec::new();
    while let Some(name) = sessions.next_expired().await {
        expired.push(name);
    }
    expired
}
// ANCHOR_END: sessions

async fn from_a_thread() -> anyhow::Result<()> {
    let (got, thread) = events_from_a_thread().await;
    thread
        .join()
        .map_err(|_| anyhow::anyhow!("the sending thread panicked"))?;
    println!("call_soon_threadsafe: events from a plain thread, in order: {got:?}");
    Ok(())
}

// ANCHOR: call_soon_threadsafe
/// A plain thread (a blocking library's callback, a GUI loop) hands events to async code
/// through a tokio channel: `send` on an unbounded sender is a plain function.
async fn events_from_a_thread() -> (Vec<u32>, std::thread::JoinHandle<()>) {
    let (events, mut received) = mpsc::unbounded_channel();
    let thread = std::thread::spawn(move || {
        for n in 1..=3 {
            events.send(n).expect("the receiver is alive"); // loop.call_soon_threadsafe
        }
    });
    let mut got = Vec::new();
    while let Some(n) = received.recv().await {
        got.push(n); // ends when the thread's sender is dropped
    }
    (got, thread)
}
// ANCHOR_END: call_soon_threadsafe

async fn coroutine_from_a_thread() -> anyhow::Result<()> {
    let runtime = tokio::runtime::Handle::current();
    let thread = std::thread::spawn(move || ask_the_runtime(&runtime));
    let answers = tokio::task::spawn_blocking(move || thread.join())
        .await?
        .map_err(|_| anyhow::anyhow!("the waiting thread panicked"))?;
    let Answers {
        answer,
        timed_out,
        cancelled,
        panicked,
    } = answers;
    println!("run_coroutine_threadsafe: {answer:?}; with a 20 ms limit: {timed_out:?}");
    println!("then cancelled: {cancelled:?}; a panic: {panicked:?}");
    anyhow::ensure!(answer == Ok(42), "no answer from the runtime");
    anyhow::ensure!(
        cancelled == Err(WaitError::Cancelled),
        "the cancel did not stop it"
    );
    Ok(())
}

/// What each of [`ask_the_runtime`]'s waits returned.
#[derive(Debug)]
struct Answers {
    answer: Result<u32, WaitError>,
    timed_out: Result<(), WaitError>,
    cancelled: Result<(), WaitError>,
    panicked: Result<(), WaitError>,
}

// ANCHOR: run_coroutine_threadsafe
/// On a plain thread, asks async code run on `runtime` for an answer; waits for a slow
/// task with a limit, then cancels it (a timed-out wait does not stop it); and sees a
/// task's panic as an error.
fn ask_the_runtime(runtime: &Handle) -> Answers {
    let answer = run_coroutine_threadsafe(runtime, async {
        sleep(Duration::from_millis(10)).await;
        42
    });
    let slow = run_coroutine_threadsafe(runtime, async { sleep(Duration::from_secs(3600)).await });
    let timed_out = slow.wait(Duration::from_millis(20));
    slow.cancel(); // a timed-out wait does not stop the task: cancel does
    let panicked = run_coroutine_threadsafe(runtime, async { panic!("no answer") });
    Answers {
        answer: answer.wait(Duration::from_secs(5)),
        timed_out,
        cancelled: slow.wait(Duration::from_secs(5)),
        panicked: panicked.wait(Duration::from_secs(5)),
    }
}
// ANCHOR_END: run_coroutine_threadsafe

async fn child_processes(run: &str, limit: Duration) -> anyhow::Result<()> {
    let words: Vec<&str> = run.split_whitespace().collect();
    let Some((program, arguments)) = words.split_first() else {
        anyhow::bail!("--run is empty: give a program to run");
    };
    let mut command = Command::new(program);
    command.args(arguments);
    let output = output_within(command, limit).await?;
    let stdout = String::from_utf8_lossy(&output.stdout);
    println!("subprocess `{run}` said: {}", stdout.trim_end());

    let mut sleeper = Command::new("sleep");
    sleeper.arg("3600");
    match output_within(sleeper, Duration::from_millis(100)).await {
        Err(error @ ProcessError::TimedOut { .. }) => println!("subprocess: {error}"),
        other => anyhow::bail!("sleep 3600 was not stopped: {other:?}"),
    }

    let mut counting = Command::new("sh");
    counting.args(["-c", "for n in 1 2 3; do echo line $n; done"]);
    let mut stream = std::pin::pin!(lines(counting)?);
    let mut count = 0;
    while let Some(line) = futures::StreamExt::next(&mut stream).await {
        line?;
        count += 1;
    }
    println!("subprocess lines as they came: {count}");
    Ok(())
}

async fn context() -> anyhow::Result<()> {
    let (plain, carried) = with_request_id(7, async {
        let plain = tokio::spawn(async { request_id() }); // not inherited
        let carried = spawn_with_request_id(async { request_id() });
        (plain.await, carried.await)
    })
    .await;
    let (plain, carried) = (plain?, carried?);
    println!(
        "task_local: outside {:?}; a plain spawn sees {plain:?}, spawn_with_request_id sees {carried:?}",
        request_id()
    );
    Ok(())
}

async fn signal(stop: impl Future<Output = &'static str>, wait: bool) -> anyhow::Result<()> {
    let pid = std::process::id();
    if wait {
        println!("waiting for SIGTERM or Ctrl-C: kill -TERM {pid}");
    } else {
        // Without --until-signal, the demo sends SIGTERM to itself, as a service manager would.
        let status = std::process::Command::new("kill")
            .args(["-TERM", &pid.to_string()])
            .status()?;
        anyhow::ensure!(status.success(), "kill -TERM {pid}: {status}");
    }
    let name = stop.await;
    println!("{name} caught: cleaning up and exiting with 0, not killed");
    Ok(())
}
