//! A server under test in a process of its own: started from a command, read for the
//! address it prints, measured through Linux `/proc` (its CPU time, with its worker
//! processes', and its memory), killed on drop. The benchmarks of servers (ws-broadcast,
//! web-api) load them from the benchmark's own process.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

/// A server in its own process, killed on drop.
#[derive(Debug)]
pub struct ServerProcess {
    child: Child,
    /// `host:port`, as the server printed it.
    pub addr: String,
}

impl ServerProcess {
    /// Starts `command` and reads its stdout until a line that starts with `prefix`
    /// followed by `http://host:port`; the rest of its output is drained.
    pub fn start(mut command: Command, prefix: &str) -> anyhow::Result<Self> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let Some(line) = lines.next().transpose()? else {
                bail!("the server exited before it printed {prefix:?}");
            };
            if let Some(rest) = line.strip_prefix(prefix) {
                let url = rest.split_whitespace().next().unwrap_or_default();
                let addr = url
                    .trim_start_matches("http://")
                    .trim_end_matches(['/', ';']);
                break addr.to_owned();
            }
        };
        // Keep draining its stdout so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        let mut server = Self { child, addr };
        server.until_accepting()?;
        Ok(server)
    }

    /// Waits until the address accepts a connection: a server may print it before it
    /// listens (uvicorn's workers bind after the parent starts them).
    fn until_accepting(&mut self) -> anyhow::Result<()> {
        let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
        loop {
            if std::net::TcpStream::connect(&self.addr).is_ok() {
                return Ok(());
            }
            if let Some(status) = self.child.try_wait()? {
                bail!("the server exited ({status}) before it accepted a connection");
            }
            if std::time::Instant::now() > deadline {
                bail!("{} accepted no connection within 30 s", self.addr);
            }
            std::thread::sleep(std::time::Duration::from_millis(20));
        }
    }

    /// The process id.
    pub fn pid(&self) -> u32 {
        self.child.id()
    }

    /// CPU time (user + system) the server and every process below it (a pre-forking
    /// server's workers) have used so far, in seconds (Linux `/proc`, in clock ticks of
    /// 10 ms: sum it over runs, not within one request).
    pub fn cpu_secs(&self) -> anyhow::Result<f64> {
        let mut ticks = 0;
        for pid in family(self.child.id()) {
            // Gone in between: its time is lost with it, as a short-lived worker's is.
            if let Ok((own, _)) = stat(pid) {
                ticks += own;
            }
        }
        Ok(ticks as f64 / 100.0)
    }

    /// Resident memory of the server process, in KiB (Linux `/proc`).
    pub fn rss_kib(&self) -> anyhow::Result<f64> {
        let status = std::fs::read_to_string(format!("/proc/{}/status", self.child.id()))?;
        let line = status
            .lines()
            .find(|l| l.starts_with("VmRSS:"))
            .context("no VmRSS")?;
        let kib = line.split_whitespace().nth(1).context("VmRSS value")?;
        Ok(kib.parse()?)
    }
}

impl Drop for ServerProcess {
    fn drop(&mut self) {
        // A pre-forking server's workers go with it: they are its children.
        for pid in family(self.child.id()).into_iter().skip(1) {
            let _ = Command::new("kill").arg(pid.to_string()).status();
        }
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}

/// `(utime + stime, parent pid)` of a process, from `/proc/PID/stat`.
fn stat(pid: u32) -> anyhow::Result<(u64, u32)> {
    let stat = std::fs::read_to_string(format!("/proc/{pid}/stat"))?;
    // After the command name in parentheses: state, ppid, ... utime is the 12th field.
    let fields: Vec<&str> = stat
        .rsplit_once(')')
        .context("stat")?
        .1
        .split_whitespace()
        .collect();
    let ticks = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
    Ok((ticks, fields[1].parse()?))
}

/// `root` and every process below it, `root` first.
fn family(root: u32) -> Vec<u32> {
    let parents: Vec<(u32, u32)> = std::fs::read_dir("/proc")
        .into_iter()
        .flatten()
        .flatten()
        .filter_map(|entry| entry.file_name().to_str()?.parse::<u32>().ok())
        .filter_map(|pid| Some((pid, stat(pid).ok()?.1)))
        .collect();
    let mut family = vec![root];
    let mut at = 0;
    while at < family.len() {
        let parent = family[at];
        family.extend(
            parents
                .iter()
                .filter(|(_, p)| *p == parent)
                .map(|(pid, _)| *pid),
        );
        at += 1;
    }
    family
}
