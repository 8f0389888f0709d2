//! A throwaway PostgreSQL server from the machine's own binaries: `initdb` a cluster in a
//! temporary directory, start it on a free loopback port, and stop and delete it on drop.
//!
//! ```no_run
//! # fn demo() -> Result<(), String> {
//! let server = external_tools::postgres::Postgres::start()?;
//! println!("{}", server.url()); // postgres://postgres:postgres@127.0.0.1:<port>/postgres
//! # Ok(()) }
//! ```
//!
//! As root, the server runs as the `postgres` user (`runuser -u postgres --`): PostgreSQL
//! refuses to run as root. Password authentication is on (`scram-sha-256` over TCP), so a
//! wrong password fails as it would against a real server.

use crate::free_port;
use std::path::{Path, PathBuf};
use std::process::{Command, Output};

/// The superuser's name and password in every throwaway cluster.
pub const USER: &str = "postgres";
/// See [`USER`].
pub const PASSWORD: &str = "postgres";

/// A running throwaway server. Dropping it stops the server and removes its files.
#[derive(Debug)]
pub struct Postgres {
    bin: PathBuf,
    data: PathBuf,
    port: u16,
    as_postgres: bool,
}

impl Postgres {
    /// Starts a new server. `Err` says why not (binaries missing, initdb or start failed),
    /// for [`crate::require`] to turn into a skip or, under CI, a failure.
    pub fn start() -> Result<Self, String> {
        let bin = binaries()?;
        let as_postgres = running_as_root();
        let data = scratch_dir(as_postgres)?;
        let port = free_port()?;
        let server = Self {
            bin,
            data,
            port,
            as_postgres,
        };
        server.init()?;
        server
            .run_pg_ctl(&[
                "start",
                "-w",
                "-t",
                "60",
                "-l",
                &server.data.join("server.log").display().to_string(),
                "-o",
                &format!(
                    "-p {port} -k {} -c listen_addresses=127.0.0.1 -c fsync=off \
                 -c synchronous_commit=off -c full_page_writes=off -c max_connections=200 \
                 -c client_connection_check_interval=100",
                    server.data.display()
                ),
            ])
            .map_err(|e| format!("{e}; log: {}", server.log_tail()))?;
        Ok(server)
    }

    /// `postgres://postgres:postgres@127.0.0.1:<port>/postgres`.
    pub fn url(&self) -> String {
        self.url_for("postgres")
    }

    /// The URL of another database on this server.
    pub fn url_for(&self, database: &str) -> String {
        format!(
            "postgres://{USER}:{PASSWORD}@127.0.0.1:{}/{database}",
            self.port
        )
    }

    /// The TCP port it listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The directory of the cluster's files, removed on drop.
    pub fn data_dir(&self) -> &Path {
        &self.data
    }

    /// The directory holding the server's binaries (`pgbench` is usually there too).
    pub fn bin_dir(&self) -> &Path {
        &self.bin
    }

    /// The last lines of the server's log, for an error message.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.data.join("server.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(5)..].join(" | ")
    }

    fn init(&self) -> Result<(), String> {
        let pwfile = self.data.join("pwfile");
        std::fs::write(&pwfile, PASSWORD).map_err(|e| format!("cannot write pwfile: {e}"))?;
        self.chown(&pwfile)?;
        let cluster = self.data.join("cluster");
        self.run(
            "initdb",
            &[
                "-D",
                &cluster.display().to_string(),
                "-U",
                USER,
                "--pwfile",
                &pwfile.display().to_string(),
                "--auth-local=trust",
                "--auth-host=scram-sha-256",
                "-E",
                "UTF8",
                "--no-sync",
            ],
        )?;
        Ok(())
    }

    fn run_pg_ctl(&self, args: &[&str]) -> Result<Output, String> {
        let cluster = self.data.join("cluster").display().to_string();
        let mut all = vec!["-D", &cluster];
        all.extend_from_slice(args);
        self.run("pg_ctl", &all)
    }

    /// Runs one of the server's binaries, as `postgres` when we are root.
    fn run(&self, tool: &str, args: &[&str]) -> Result<Output, String> {
        let exe = self.bin.join(tool);
        let mut command = if self.as_postgres {
            let mut c = Command::new("runuser");
            c.args(["-u", "postgres", "--"]).arg(&exe);
            c
        } else {
            Command::new(&exe)
        };
        let output = command
            .args(args)
            .env("LC_ALL", "C.UTF-8")
            .output()
            .map_err(|e| format!("cannot run {}: {e}", exe.display()))?;
        if output.status.success() {
            Ok(output)
        } else {
            Err(format!(
                "{tool} {} failed: {}",
                args.join(" "),
                String::from_utf8_lossy(&output.stderr).trim()
            ))
        }
    }

    fn chown(&self, path: &Path) -> Result<(), String> {
        if !self.as_postgres {
            return Ok(());
        }
        let status = Command::new("chown")
            .args(["-R", "postgres:postgres"])
            .arg(path)
            .status()
            .map_err(|e| format!("cannot run chown: {e}"))?;
        status
            .success()
            .then_some(())
            .ok_or_else(|| format!("chown {} failed", path.display()))
    }
}

impl Drop for Postgres {
    fn drop(&mut self) {
        // Immediate: a test's server holds nothing worth a clean shutdown.
        let _ = self.run_pg_ctl(&["stop", "-m", "immediate", "-w", "-t", "30"]);
        let _ = std::fs::remove_dir_all(&self.data);
    }
}

/// The directory of `initdb`, `pg_ctl` and `postgres`: `$PG_BIN`, then `PATH`, then the
/// newest `/usr/lib/postgresql/<version>/bin` (Debian keeps them off the PATH).
pub fn binaries() -> Result<PathBuf, String> {
    let has_all = |dir: &Path| {
        ["initdb", "pg_ctl", "postgres"]
            .iter()
            .all(|t| dir.join(t).is_file())
    };
    if let Some(dir) = std::env::var_os("PG_BIN").map(PathBuf::from) {
        return has_all(&dir)
            .then_some(dir.clone())
            .ok_or_else(|| format!("PG_BIN={} lacks initdb, pg_ctl or postgres", dir.display()));
    }
    let mut candidates: Vec<PathBuf> = Vec::new();
    if let Ok(read) = std::fs::read_dir("/usr/lib/postgresql") {
        let mut versions: Vec<PathBuf> = read.filter_map(|e| e.ok().map(|e| e.path())).collect();
        versions.sort();
        candidates.extend(versions.into_iter().rev().map(|v| v.join("bin")));
    }
    if let Some(path) = std::env::var_os("PATH") {
        candidates.extend(std::env::split_paths(&path));
    }
    candidates
        .into_iter()
        .find(|dir| has_all(dir))
        .ok_or_else(|| {
            "no PostgreSQL server binaries (initdb, pg_ctl, postgres): install Debian's \
         postgresql package, or set PG_BIN"
                .to_owned()
        })
}

fn running_as_root() -> bool {
    Command::new("id")
        .arg("-u")
        .output()
        .is_ok_and(|out| String::from_utf8_lossy(&out.stdout).trim() == "0")
}

/// A new directory under the system temp dir, owned by `postgres` when we are root.
fn scratch_dir(as_postgres: bool) -> Result<PathBuf, String> {
    let dir = crate::scratch_dir("catalogue-pg")?;
    if as_postgres {
        let ok = Command::new("chown")
            .args(["postgres:postgres"])
            .arg(&dir)
            .status()
            .is_ok_and(|s| s.success());
        if !ok {
            return Err(format!(
                "cannot give {} to the postgres user",
                dir.display()
            ));
        }
    }
    Ok(dir)
}
