//! Demo: every kind of time limit, against the embedded fixture server.
//!
//! ```text
//! cargo run -p timeout
//! cargo run -p timeout -- --url https://www.rust-lang.org --timeout-ms 2000
//! RUST_LOG=timeout=debug cargo run -p timeout      # see the retries' waits
//! ```

use std::process::ExitCode;
use std::time::Duration;

use clap::Parser;
use fixture_server::{Blackhole, FixtureServer};
use patterns_core::cli::{self, Url};
use patterns_core::error::reason;
use patterns_core::{app, timed};
use timeout::{
    Backoff, Deadline, Raced, RetryError, all_within, each_within, race, retry, wait_for,
};
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

/// Show wait_for, a shared deadline, select!, group limits, HTTP timeouts and retries.
#[derive(Debug, Parser)]
#[command(version, allow_negative_numbers = true)]
struct Args {
    /// Also fetch this URL under --timeout-ms.
    #[arg(long, value_parser = cli::http_url)]
    url: Option<Url>,
    /// Total timeout for --url, in milliseconds.
    #[arg(long, default_value_t = 5000, value_parser = clap::value_parser!(u64).range(1..=600_000))]
    timeout_ms: u64,
}

const MS: fn(u64) -> Duration = Duration::from_millis;

/// GETs `url` and returns the body's length; a non-2xx status is an error too.
async fn fetch(client: &reqwest::Client, url: &str) -> reqwest::Result<usize> {
    let response = client.get(url).send().await?.error_for_status()?;
    Ok(response.bytes().await?.len())
}

#[tokio::main]
async fn main() -> ExitCode {
    app::run(demo(Args::parse())).await
}

async fn demo(args: Args) -> anyhow::Result<()> {
    let server = FixtureServer::start().await?;
    let plain = reqwest::Client::new();

    let slow_url = server.url("/delay/1000");
    let slow = fetch(&plain, &slow_url);
    match wait_for(MS(300), slow).await {
        Err(timed_out) => println!("1. wait_for: the request {timed_out}, and was cancelled"),
        Ok(_) => anyhow::bail!("a 1 s request should not fit in 300 ms"),
    }

    steps_under_one_deadline(&plain, &server).await;

    let token = CancellationToken::new();
    let canceller = token.clone();
    tokio::spawn(async move {
        tokio::time::sleep(MS(200)).await;
        canceller.cancel();
    });
    let in_a_second = Instant::now() + Duration::from_secs(1);
    let raced = race(
        fetch(&plain, &server.url("/delay/500")),
        in_a_second,
        &token,
    )
    .await;
    println!(
        "3. select! of a 500 ms request, a 1 s deadline and a token cancelled at 200 ms: {}",
        label(&raced)
    );

    let urls = ["/delay/100", "/delay/500", "/delay/200"].map(|p| server.url(p));
    let group = || {
        urls.iter()
            .map(|url| fetch(&plain, url))
            .collect::<Vec<_>>()
    };
    let whole = all_within(MS(300), group()).await;
    let each = each_within(MS(300), group()).await;
    let kept = each.iter().filter(|r| matches!(r, Ok(Ok(_)))).count();
    println!(
        "4. join_all under one 300 ms limit: {}; with a limit each: {kept} of 3 kept",
        if whole.is_err() {
            "timed out, nothing kept"
        } else {
            "done"
        }
    );

    let hole = Blackhole::start().await?;
    let strict = strict_client()?;
    let (result, took) = timed("connect", strict.get(hole.url()).send()).await;
    let err = result.err().filter(|e| e.is_connect() && e.is_timeout());
    println!(
        "5. connect timeout: a server that never accepts gave up after {} ms: {}",
        took.as_millis(),
        err.is_some()
    );

    // Ten chunks 100 ms apart: 1 s in all, and 200 ms of margin under the read timeout.
    let trickle = server.url("/fault/trickle?chunks=10&interval_ms=100");
    let patient = reqwest::Client::builder()
        .read_timeout(MS(300))
        .timeout(MS(60_000))
        .build()?;
    let verdict = match async { patient.get(&trickle).send().await?.text().await }.await {
        Ok(body) => format!("arrived whole ({} lines)", body.lines().count()),
        // A machine so loaded that one chunk came 300 ms late: say so, do not abort.
        Err(error) => format!("was cut off: {}", patterns_core::error::chain(&error)),
    };
    println!("6. read timeout 300 ms: a body trickling every 100 ms {verdict}");
    let (result, took) = timed("total", async {
        strict.get(&trickle).send().await?.text().await
    })
    .await;
    let verdict = match result {
        Err(e) if e.is_timeout() => "timed out",
        Err(_) => "failed",
        Ok(_) => "arrived",
    };
    println!(
        "7. total timeout 500 ms: the same 1 s body {verdict} after {} ms",
        took.as_millis()
    );

    let (outcome, took) = retry_a_recovering_server(&plain, &server).await;
    match outcome {
        Ok(_) => println!(
            "8. retry with backoff and jitter: succeeded after {:.2} s",
            took.as_secs_f64()
        ),
        Err(error) => println!("8. retry with backoff and jitter: {error}"),
    }

    if let Some(url) = &args.url {
        let limit = MS(args.timeout_ms);
        let client = reqwest::Client::builder().timeout(limit).build()?;
        // Your own target failing is the demo failing: exit 1 with the reason.
        let bytes = fetch(&client, url.as_str())
            .await
            .map_err(|e| anyhow::anyhow!("{url}: {} (limit {limit:?})", reason(&e)))?;
        println!("9. {url}: {bytes} bytes within {limit:?}");
    }
    Ok(())
}

// ANCHOR: demo_deadline
/// Three requests under one 700 ms budget: each step gets what the earlier ones left.
async fn steps_under_one_deadline(plain: &reqwest::Client, server: &FixtureServer) {
    let deadline = Deadline::after(MS(700));
    for (step, delay) in [200, 200, 400].into_iter().enumerate() {
        let outcome = deadline
            .run(fetch(plain, &server.url(&format!("/delay/{delay}"))))
            .await;
        let verdict = if outcome.is_ok() { "done" } else { "timed out" };
        println!(
            "2. one deadline, step {} ({delay} ms): {verdict}, {} ms of the budget left",
            step + 1,
            deadline.remaining().as_millis()
        );
    }
}
// ANCHOR_END: demo_deadline

// ANCHOR: client_timeouts
/// reqwest's three limits: connecting, the wait for the next bytes, the whole request.
fn strict_client() -> reqwest::Result<reqwest::Client> {
    reqwest::Client::builder()
        .connect_timeout(MS(200))
        .read_timeout(MS(300))
        .timeout(MS(500))
        .build()
}
// ANCHOR_END: client_timeouts

// ANCHOR: demo_retry
/// A recovering server, retried with backoff and jitter: each try asks it to wait less
/// (600, 400, 200... ms), and each is cut off at 300 ms.
async fn retry_a_recovering_server(
    plain: &reqwest::Client,
    server: &FixtureServer,
) -> (Result<usize, RetryError<anyhow::Error>>, Duration) {
    let policy = Backoff {
        retries: 4,
        first_delay: MS(100),
        max_delay: MS(1000),
        budget: MS(3000),
        jitter: true,
    };
    let attempt = |try_number: u32| {
        let url = server.url(&format!(
            "/delay/{}",
            800 - 200 * u64::from(try_number.min(3))
        ));
        async move {
            wait_for(MS(300), fetch(plain, &url))
                .await?
                .map_err(anyhow::Error::from)
        }
    };
    timed("retry", retry(&policy, attempt, |_| true)).await
}
// ANCHOR_END: demo_retry

fn label<T>(raced: &Raced<T>) -> &'static str {
    match raced {
        Raced::Done(_) => "the work finished first",
        Raced::TimedOut => "the deadline came first",
        Raced::Cancelled => "the token came first, cancelled",
    }
}
