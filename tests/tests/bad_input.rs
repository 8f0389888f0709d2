//! Bad input on every binary: a bad URL, an unreachable one, a number out of range, a file
//! where a directory belongs. Each is refused with one clear line and a non-zero exit; the
//! flags are read from each binary's `--help`, so a new flag is tried without a new test.

use std::process::Output;
use std::time::Duration;

use futures::future::join_all;
use tokio::process::Command;
use workspace_tests::{Flag, binary, every_binary, flags};

const LIMIT: Duration = Duration::from_secs(120);

async fn run(name: &str, args: &[&str]) -> Output {
    let child = Command::new(binary(name).unwrap())
        .args(args)
        .env("RUST_LOG", "off")
        .kill_on_drop(true)
        .output();
    match tokio::time::timeout(LIMIT, child).await {
        Ok(output) => output.unwrap(),
        Err(_) => panic!("{name} {args:?}: still running after {LIMIT:?}"),
    }
}

/// Each binary with the flags its `--help` lists.
async fn binaries_and_flags() -> Vec<(String, Vec<Flag>)> {
    let mut all = Vec::new();
    for name in every_binary() {
        let help = run(&name, &["--help"]).await;
        all.push((name, flags(&String::from_utf8_lossy(&help.stdout))));
    }
    all
}

/// The one line clap prints first, or a note of what was wrong with the output.
fn first_line_of_a_refusal(output: &Output) -> Result<String, String> {
    let stderr = String::from_utf8_lossy(&output.stderr);
    let first = stderr.lines().next().unwrap_or_default().to_owned();
    match output.status.code() {
        Some(2) if first.starts_with("error: invalid value ") => Ok(first),
        _ => Err(format!("{}: {}", output.status, stderr.trim())),
    }
}

#[tokio::test]
async fn every_url_flag_refuses_what_is_not_a_web_url_and_says_why_once() {
    let cases = [
        ("not a url", "not an absolute URL"),
        ("ftp://x", "only http and https are supported, not ftp"),
        ("mailto:ada@example.com", "not mailto"),
        ("file:///etc/passwd", "not file"),
        ("http://", "empty host"),
    ];
    let mut failures = Vec::new();
    let mut tried = 0;
    for (name, flags) in binaries_and_flags().await {
        for flag in flags.iter().filter(|f| f.value == "URL") {
            for (bad, reason) in cases {
                tried += 1;
                let output = run(&name, &[&flag.name, bad]).await;
                match first_line_of_a_refusal(&output) {
                    Ok(line)
                        if line.contains(&flag.name)
                            && line.contains(reason)
                            && line.matches(bad).count() == 1 => {}
                    Ok(line) => failures.push(format!("{name} {} {bad:?}: {line}", flag.name)),
                    Err(why) => failures.push(format!("{name} {} {bad:?}: {why}", flag.name)),
                }
            }
        }
    }
    // gather, http-client, resources, timeout and web-scraper take --url.
    assert!(tried >= 5 * cases.len(), "only {tried} URL cases found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_url_nobody_answers_is_a_failure_with_its_reason() {
    // Held for the whole test: a freed port was once taken by another test's server.
    let refusing = fixture_server::RefusingPort::bind().unwrap();
    let url = refusing.url();
    let mut takers = Vec::new();
    for (name, flags) in binaries_and_flags().await {
        if flags.iter().any(|f| f.name == "--url") {
            takers.push(name);
        }
    }
    assert!(takers.len() >= 5, "{takers:?}");
    let args = ["--url", url.as_str()];
    let outputs = join_all(takers.iter().map(|name| run(name, &args))).await;
    let mut failures = Vec::new();
    for (name, output) in takers.iter().zip(outputs) {
        let stderr = String::from_utf8_lossy(&output.stderr);
        let last = stderr.lines().last().unwrap_or_default();
        let refused = last.to_lowercase().contains("connection refused");
        if output.status.code() != Some(1) || !last.starts_with("error: ") || !refused {
            failures.push(format!("{name}: {}: {}", output.status, stderr.trim()));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn numbers_out_of_range_are_refused_naming_the_flag() {
    let mut failures = Vec::new();
    let mut tried = 0;
    for (name, flags) in binaries_and_flags().await {
        let numeric = flags.iter().filter(|f| {
            let number = f
                .default
                .as_deref()
                .is_some_and(|d| d.parse::<u64>().is_ok());
            number || f.value == "PER_SECOND"
        });
        for flag in numeric {
            for bad in ["-1", "18446744073709551616", "1e3", ""] {
                tried += 1;
                let output = run(&name, &[&flag.name, bad]).await;
                let expected = format!("error: invalid value '{bad}' for '{} <", flag.name);
                match first_line_of_a_refusal(&output) {
                    Ok(line) if line.starts_with(&expected) => {}
                    Ok(line) => failures.push(format!("{name} {} {bad:?}: {line}", flag.name)),
                    Err(why) => failures.push(format!("{name} {} {bad:?}: {why}", flag.name)),
                }
            }
        }
    }
    assert!(tried >= 100, "only {tried} cases found");
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

#[tokio::test]
async fn a_file_given_as_a_directory_is_called_a_file() {
    let file = workspace_tests::workspace_root().join("Cargo.toml");
    let mut tried = 0;
    for (name, flags) in binaries_and_flags().await {
        for flag in flags.iter().filter(|f| f.name == "--static-dir") {
            tried += 1;
            let output = run(&name, &[&flag.name, file.to_str().unwrap()]).await;
            let line = first_line_of_a_refusal(&output).unwrap();
            assert!(
                line.ends_with("is a file, not a directory"),
                "{name}: {line}"
            );
        }
    }
    assert!(
        tried >= 2,
        "web-scraper and fixture-server take --static-dir"
    );
}

#[tokio::test]
async fn edge_values_are_reported_as_they_are() {
    // (binary, flags, a line the output must hold, whether it must succeed)
    let cases: [(&str, &[&str], &str, bool); 6] = [
        (
            "rate-limit",
            &["--requests", "1"],
            "two hosts: 1 request in",
            true,
        ),
        (
            "streams",
            &["--per-page", "1"],
            "take(3): 3 items for 3 page requests",
            true,
        ),
        (
            "basics",
            &["--pause-ms", "0"],
            "(no pauses to add up)",
            true,
        ),
        ("gather", &["--count", "1"], "3. JoinSet: 1 task in", true),
        ("tasks", &[], "panics on purpose", true),
        // Every request times out: no step may claim a time for them.
        (
            "http-client",
            &["--total-ms", "1"],
            "error: step 1, 50 requests",
            false,
        ),
    ];
    let outputs = join_all(cases.iter().map(|(name, args, ..)| run(name, args))).await;
    let mut failures = Vec::new();
    for ((name, args, line, succeeds), output) in cases.iter().zip(outputs) {
        let text =
            String::from_utf8_lossy(&output.stdout) + String::from_utf8_lossy(&output.stderr);
        if output.status.success() != *succeeds || !text.contains(line) {
            failures.push(format!(
                "{name} {args:?}: {}: no {line:?} in:\n{text}",
                output.status
            ));
        }
    }
    assert!(failures.is_empty(), "{}", failures.join("\n"));
}

/// Spawns `name` with `args`, stdout and stderr piped, killed when dropped.
fn spawn(name: &str, args: &[&str]) -> tokio::process::Child {
    Command::new(binary(name).unwrap())
        .args(args)
        .env("RUST_LOG", "warn")
        .stdout(std::process::Stdio::piped())
        .stderr(std::process::Stdio::piped())
        .kill_on_drop(true)
        .spawn()
        .unwrap()
}

/// The first line of `stream` that contains `needle`, within [`LIMIT`].
async fn line_with(stream: impl tokio::io::AsyncRead + Unpin, needle: &str) -> String {
    use tokio::io::AsyncBufReadExt;
    let mut lines = tokio::io::BufReader::new(stream).lines();
    let found = async {
        while let Some(line) = lines.next_line().await.unwrap() {
            if line.contains(needle) {
                return line;
            }
        }
        panic!("no line containing {needle:?}");
    };
    tokio::time::timeout(LIMIT, found)
        .await
        .unwrap_or_else(|_| panic!("no line containing {needle:?} within {LIMIT:?}"))
}

#[tokio::test]
async fn a_queue_run_of_hours_says_so_up_front() {
    // A million-item queue fills in the 100 ms before the drain: hours of 20 ms items.
    let mut queue = spawn("queue", &["--capacity", "1000000"]);
    let line = line_with(queue.stderr.take().unwrap(), "take about").await;
    assert!(line.contains("progress every 2 s"), "{line}");
    queue.kill().await.unwrap();
}

#[tokio::test]
async fn a_listen_address_may_name_its_host() {
    let mut server = spawn("fixture-server", &["--addr", "localhost:0"]);
    let url = line_with(server.stdout.take().unwrap(), "http://").await;
    assert!(
        url.starts_with("http://127.0.0.1:") || url.starts_with("http://[::1]:"),
        "{url}"
    );
    server.kill().await.unwrap();
}
