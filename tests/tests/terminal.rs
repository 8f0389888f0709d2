//! What a person at a terminal sees: web-scraper's progress bar never stays behind on a
//! line of the report. The binary runs under `script`, which gives it a pseudo-terminal,
//! so the bar is drawn exactly as a user would see it.
#![cfg(unix)]

use std::time::Duration;

use tokio::process::Command;
use workspace_tests::binary;

/// Each line as a terminal leaves it: what follows the last carriage return, since
/// `\r` (and `\r\x1b[2K`, which also erases the line) starts the line again.
fn visible_lines(raw: &str) -> Vec<String> {
    raw.split('\n')
        .map(|line| {
            let line = line.trim_end_matches('\r');
            let last = line.rsplit('\r').next().unwrap_or_default();
            last.replace("\x1b[2K", "")
        })
        .collect()
}

#[tokio::test]
async fn the_progress_bar_leaves_no_stale_lines_between_report_lines() {
    let Ok(script) = which("script") else {
        assert!(
            std::env::var("CI").is_err(),
            "`script` (util-linux) is missing under CI=true"
        );
        eprintln!("SKIPPED: no `script` to run web-scraper on a pseudo-terminal");
        return;
    };
    let command = format!(
        "{} --site-pages 20 --per-second 50",
        binary("web-scraper").unwrap().display()
    );
    let run = Command::new(script)
        .args(["-qec", &command, "/dev/null"])
        .env("RUST_LOG", "info")
        .kill_on_drop(true)
        .output();
    let output = tokio::time::timeout(Duration::from_secs(120), run)
        .await
        .expect("it finished")
        .unwrap();
    assert!(output.status.success(), "{output:?}");
    let raw = String::from_utf8_lossy(&output.stdout);
    assert!(raw.contains("pages fetched"), "the bar was drawn: {raw}");
    let stale: Vec<String> = visible_lines(&raw)
        .into_iter()
        .filter(|line| line.contains("pages fetched"))
        .collect();
    assert!(stale.is_empty(), "stale bar lines: {stale:#?}");
    assert!(raw.contains("crawled 22 URLs"), "{raw}");
}

fn which(program: &str) -> Result<std::path::PathBuf, ()> {
    std::env::var_os("PATH")
        .iter()
        .flat_map(std::env::split_paths)
        .map(|dir| dir.join(program))
        .find(|path| path.is_file())
        .ok_or(())
}
