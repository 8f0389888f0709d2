//! The throwaway PostgreSQL starts, answers on its port with password authentication, and
//! is gone, files and all, once dropped. Skips visibly without the server binaries; fails
//! under CI=true.

use std::process::Command;

use external_tools::postgres::{PASSWORD, Postgres, USER};
use external_tools::require;

fn ready(server_bin: &std::path::Path, port: u16) -> bool {
    Command::new(server_bin.join("pg_isready"))
        .stdout(std::process::Stdio::null())
        .args(["-h", "127.0.0.1", "-p", &port.to_string(), "-t", "5"])
        .status()
        .is_ok_and(|s| s.success())
}

fn psql(server: &Postgres, password: &str, sql: &str) -> Result<String, String> {
    let output = Command::new("psql")
        .args([
            "-h",
            "127.0.0.1",
            "-p",
            &server.port().to_string(),
            "-U",
            USER,
        ])
        .args(["-d", "postgres", "-tAc", sql])
        .env("PGPASSWORD", password)
        .output()
        .map_err(|e| e.to_string())?;
    if output.status.success() {
        Ok(String::from_utf8_lossy(&output.stdout).trim().to_owned())
    } else {
        Err(String::from_utf8_lossy(&output.stderr).trim().to_owned())
    }
}

#[test]
fn a_throwaway_server_starts_answers_with_a_password_and_is_removed_on_drop() {
    let Some(server) = require("PostgreSQL", Postgres::start()) else {
        return;
    };
    let (bin, port, data) = (
        server.bin_dir().to_owned(),
        server.port(),
        server.data_dir().to_owned(),
    );
    assert!(ready(&bin, port), "not ready: {}", server.log_tail());
    assert!(server.url().contains(&format!("127.0.0.1:{port}")));
    assert_eq!(psql(&server, PASSWORD, "select 40 + 2").unwrap(), "42");
    let refused = psql(&server, "wrong", "select 1").unwrap_err();
    assert!(
        refused.contains("password authentication failed"),
        "{refused}"
    );
    drop(server);
    assert!(!ready(&bin, port), "the server still answers after drop");
    assert!(!data.exists(), "{} was left behind", data.display());
}
