//! Demo: creating, managing and cancelling tasks, against the embedded fixture server.
//!
//! ```text
//! cargo run -p tasks
//! cargo run -p tasks -- --run-ms 1000 --grace-ms 200
//! cargo run -p tasks -- --until-ctrl-c          # stop the workers with Ctrl-C
//! ```

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fixture_server::FixtureServer;
use patterns_core::{Shutdown, app, cli, timed};
use tasks::{Cleanup, Journal, TaskFailure, fetch_in_background, run_workers, sum_until_cancelled};
use tokio_util::sync::CancellationToken;
use tokio_util::task::AbortOnDropHandle;

/// Show spawn, detach, abort, panics, cooperative cancellation and graceful shutdown.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// How long the workers run before shutdown is triggered, in milliseconds.
    #[arg(long, default_value_t = 400, value_parser = clap::value_parser!(u64).range(0..=600_000))]
    run_ms: u64,
    /// How long shutdown waits for workers before aborting them, in milliseconds.
    #[arg(long, default_value_t = 300, value_parser = clap::value_parser!(u64).range(0..=60_000))]
    grace_ms: u64,
    /// Run the workers until Ctrl-C instead of for --run-ms.
    #[arg(long)]
    until_ctrl_c: bool,
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    let server = FixtureServer::start().await?;
    let client = reqwest::Client::new();

    let urls = vec![server.url("/delay/300"); 3];
    let other_work = tokio::time::sleep(Duration::from_millis(200));
    let ((_, results), took) = timed(
        "background",
        fetch_in_background(&client, &urls, other_work),
    )
    .await;
    let ok = results.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    println!(
        "1. background: {} ran during 0.2 s of other work, all done in {:.2} s",
        cli::count(ok, "task"),
        took.as_secs_f64()
    );

    let (done_tx, done_rx) = tokio::sync::oneshot::channel();
    drop(tokio::spawn(async move { done_tx.send(()) }));
    done_rx.await?;
    println!("2. a dropped JoinHandle detached its task, which still ran to the end");

    let journal = Journal::default();
    let cleanup = Cleanup::new("aborted task", &journal);
    let handle = tokio::spawn(async move {
        let _cleanup = cleanup;
        std::future::pending::<()>().await;
    });
    handle.abort();
    let failure = handle.await.map_err(TaskFailure::from).err();
    println!(
        "3. abort: {failure:?}; destructors ran: {:?}",
        journal.events()
    );

    let journal = drop_a_scoped_task().await;
    println!("4. AbortOnDropHandle dropped: {:?}", journal.events());

    eprintln!("(step 5 panics on purpose: the panic message printed here is expected)");
    let panicked = tokio::spawn(async { panic!("something broke") }).await;
    let failure = panicked.map_err(TaskFailure::from).err();
    println!("5. a panic inside a task came back as a JoinError: {failure:?}");

    let shutdown = Shutdown::new();
    if args.until_ctrl_c {
        shutdown.trigger_on_ctrl_c()?;
        println!("   workers running: press Ctrl-C to shut down, twice to stop at once");
    } else {
        let trigger = shutdown.clone();
        let run_for = Duration::from_millis(args.run_ms);
        tokio::spawn(async move {
            tokio::time::sleep(run_for).await;
            trigger.trigger();
        });
    }
    let grace = Duration::from_millis(args.grace_ms);
    let (url, checkpoint) = (server.url("/delay/100"), server.url("/status/200"));
    let summary = run_workers(&client, &url, &checkpoint, 3, 1, &shutdown, grace).await;
    for worker in &summary.finished {
        println!(
            "6. {} cancelled cooperatively after {}; its async cleanup ran: {}",
            worker.name,
            cli::count(worker.completed, "request"),
            worker.checkpointed
        );
    }
    println!(
        "7. shutdown: {} workers stopped by themselves, {} aborted after the {} ms grace period",
        summary.finished.len(),
        summary.shutdown.aborted,
        args.grace_ms
    );

    let token = CancellationToken::new();
    let check = token.clone();
    let blocking = tokio::task::spawn_blocking(move || sum_until_cancelled(u64::MAX, 4096, &check));
    tokio::time::sleep(Duration::from_millis(50)).await;
    token.cancel(); // blocking.abort() would not stop it
    match blocking.await? {
        Err(stopped) => println!("8. spawn_blocking work checked its token and stopped: {stopped}"),
        Ok(sum) => println!("8. spawn_blocking work finished before the token fired: {sum}"),
    }
    Ok(())
}

// ANCHOR: abort_on_drop
/// A task held by an `AbortOnDropHandle`: dropping the handle aborts the task, and its
/// destructors run. Returns what the cleanup wrote.
async fn drop_a_scoped_task() -> Journal {
    let journal = Journal::default();
    let cleanup = Cleanup::new("scoped task", &journal);
    let (alive, gone) = tokio::sync::oneshot::channel::<()>();
    let scoped = AbortOnDropHandle::new(tokio::spawn(async move {
        let _alive = alive; // declared first, dropped last: closes `gone` after the cleanup
        let _cleanup = cleanup;
        std::future::pending::<()>().await;
    }));
    drop(scoped); // unlike a JoinHandle, dropping this aborts the task
    let _ = gone.await; // resolves once the runtime has dropped the aborted task
    journal
}
// ANCHOR_END: abort_on_drop
