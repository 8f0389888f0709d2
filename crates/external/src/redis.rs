//! A throwaway Redis server from the machine's own `redis-server`: started on a free
//! loopback port in a temporary directory, killed and deleted on drop.
//!
//! ```no_run
//! # fn demo() -> Result<(), String> {
//! let server = external_tools::redis::Redis::start(&Default::default())?;
//! println!("{}", server.url()); // redis://127.0.0.1:<port>/
//! # Ok(()) }
//! ```
//!
//! [`Redis::kill`] and [`Redis::restart`] let a test crash the server and bring it back on
//! the same port and files: with the append-only file on ([`Options::append_only`]),
//! every write Redis acknowledged is there again.

use crate::{free_port, on_path};
use std::io::{Read, Write};
use std::net::TcpStream;
use std::path::PathBuf;
use std::process::{Child, Command, Stdio};
use std::time::{Duration, Instant};

/// How to start the server.
#[derive(Debug, Clone, Default)]
pub struct Options {
    /// `requirepass`: clients must `AUTH` with it.
    pub password: Option<String>,
    /// `appendonly yes` with `appendfsync always`: a write is on disk before Redis answers.
    pub append_only: bool,
}

/// A running throwaway server. Dropping it kills the server and removes its files.
#[derive(Debug)]
pub struct Redis {
    exe: PathBuf,
    dir: PathBuf,
    port: u16,
    options: Options,
    child: Option<Child>,
}

impl Redis {
    /// Starts a new server and waits until it answers. `Err` says why not (no
    /// `redis-server`, or it did not start), for [`crate::require`].
    pub fn start(options: &Options) -> Result<Self, String> {
        let exe = binary("redis-server")?;
        let dir = crate::scratch_dir("catalogue-redis")?;
        let port = free_port()?;
        let mut server = Self {
            exe,
            dir,
            port,
            options: options.clone(),
            child: None,
        };
        server.spawn()?;
        Ok(server)
    }

    /// `redis://[:password@]127.0.0.1:<port>/`.
    pub fn url(&self) -> String {
        match &self.options.password {
            Some(password) => format!("redis://:{password}@127.0.0.1:{}/", self.port),
            None => format!("redis://127.0.0.1:{}/", self.port),
        }
    }

    /// The TCP port it listens on (127.0.0.1 only).
    pub fn port(&self) -> u16 {
        self.port
    }

    /// The server's version, as `redis-server --version` prints it (`7.0.15`).
    pub fn version(&self) -> String {
        Command::new(&self.exe)
            .arg("--version")
            .output()
            .ok()
            .and_then(|out| {
                let text = String::from_utf8_lossy(&out.stdout).into_owned();
                let v = text.split("v=").nth(1)?.split_whitespace().next()?;
                Some(v.to_owned())
            })
            .unwrap_or_else(|| "unknown".into())
    }

    /// Kills the server with SIGKILL, as a crash would, and waits for it to exit. Its
    /// files stay for [`Redis::restart`].
    pub fn kill(&mut self) {
        if let Some(mut child) = self.child.take() {
            let _ = child.kill();
            let _ = child.wait();
        }
    }

    /// Starts the server again on the same port and files (after [`Redis::kill`]).
    pub fn restart(&mut self) -> Result<(), String> {
        self.kill();
        self.spawn()
    }

    /// The last lines of the server's log, for an error message.
    pub fn log_tail(&self) -> String {
        let log = std::fs::read_to_string(self.dir.join("redis.log")).unwrap_or_default();
        let lines: Vec<&str> = log.lines().collect();
        lines[lines.len().saturating_sub(5)..].join(" | ")
    }

    fn spawn(&mut self) -> Result<(), String> {
        let port = self.port.to_string();
        let dir = self.dir.display().to_string();
        let log = self.dir.join("redis.log").display().to_string();
        let mut args: Vec<&str> = vec![
            "--port",
            &port,
            "--bind",
            "127.0.0.1",
            "--dir",
            &dir,
            "--logfile",
            &log,
            // No snapshots: the append-only file, when on, is the only persistence.
            "--save",
            "",
            "--daemonize",
            "no",
        ];
        if self.options.append_only {
            args.extend(["--appendonly", "yes", "--appendfsync", "always"]);
        }
        if let Some(password) = &self.options.password {
            args.extend(["--requirepass", password]);
        }
        let child = Command::new(&self.exe)
            .args(&args)
            .stdin(Stdio::null())
            .stdout(Stdio::null())
            .stderr(Stdio::null())
            .spawn()
            .map_err(|e| format!("cannot run {}: {e}", self.exe.display()))?;
        self.child = Some(child);
        self.wait_until_ready()
    }

    /// Sends `PING` until the server answers, `LOADING` included (it is reading its
    /// append-only file back): any answer means it listens.
    fn wait_until_ready(&mut self) -> Result<(), String> {
        let deadline = Instant::now() + Duration::from_secs(30);
        loop {
            if ping(self.port).is_ok() {
                return Ok(());
            }
            if let Some(child) = &mut self.child
                && let Ok(Some(status)) = child.try_wait()
            {
                return Err(format!(
                    "redis-server exited with {status}; log: {}",
                    self.log_tail()
                ));
            }
            if Instant::now() > deadline {
                return Err(format!(
                    "redis-server did not answer within 30 s; log: {}",
                    self.log_tail()
                ));
            }
            std::thread::sleep(Duration::from_millis(20));
        }
    }
}

impl Drop for Redis {
    fn drop(&mut self) {
        self.kill();
        let _ = std::fs::remove_dir_all(&self.dir);
    }
}

/// One `PING` in the protocol's inline form; any reply line counts.
fn ping(port: u16) -> std::io::Result<()> {
    let mut stream = TcpStream::connect(("127.0.0.1", port))?;
    stream.set_read_timeout(Some(Duration::from_secs(1)))?;
    stream.write_all(b"PING\r\n")?;
    let mut reply = [0u8; 64];
    match stream.read(&mut reply)? {
        0 => Err(std::io::ErrorKind::UnexpectedEof.into()),
        _ => Ok(()),
    }
}

/// A Redis tool (`redis-server`, `redis-benchmark`, `redis-cli`): `$REDIS_BIN/<name>`, then
/// the `PATH`.
pub fn binary(name: &str) -> Result<PathBuf, String> {
    if let Some(dir) = std::env::var_os("REDIS_BIN").map(PathBuf::from) {
        let exe = dir.join(name);
        return exe
            .is_file()
            .then_some(exe)
            .ok_or_else(|| format!("REDIS_BIN={} has no {name}", dir.display()));
    }
    on_path(name).ok_or_else(|| {
        format!("no {name} on the PATH: install Debian's redis-server package, or set REDIS_BIN")
    })
}
