//! The servers under test, each in a process of its own: started from a command, read
//! for the address it prints, measured through Linux `/proc`, killed on drop.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use anyhow::{Context, bail};

/// A server in its own process, killed on drop.
pub(crate) struct ServerProcess {
    child: Child,
    pub(crate) ws_url: String,
}

impl ServerProcess {
    /// Starts `command` and reads its `chat page: http://ADDR/` line.
    pub(crate) fn start(mut command: Command) -> anyhow::Result<Self> {
        let mut child = command
            .stdout(Stdio::piped())
            .stderr(Stdio::inherit())
            .spawn()?;
        let stdout = child.stdout.take().context("no stdout")?;
        let mut lines = BufReader::new(stdout).lines();
        let addr = loop {
            let Some(line) = lines.next().transpose()? else {
                bail!("the server exited before it printed its address");
            };
            if let Some(rest) = line.strip_prefix("chat page: http://") {
                break rest.trim_end_matches('/').to_owned();
            }
        };
        // Keep draining its stdout so it never blocks on a full pipe.
        std::thread::spawn(move || lines.for_each(drop));
        Ok(Self {
            child,
            ws_url: format!("ws://{addr}/ws"),
        })
    }

    /// CPU time (user + system) the server process has used so far, in seconds (Linux
    /// `/proc`, in clock ticks of 10 ms: sum it over runs, not within one message).
    pub(crate) fn cpu_secs(&self) -> anyhow::Result<f64> {
        let stat = std::fs::read_to_string(format!("/proc/{}/stat", self.child.id()))?;
        // After the command name in parentheses: state, ppid, ... utime is the 12th field.
        let fields: Vec<&str> = stat
            .rsplit_once(')')
            .context("stat")?
            .1
            .split_whitespace()
            .collect();
        let ticks: u64 = fields[11].parse::<u64>()? + fields[12].parse::<u64>()?;
        Ok(ticks as f64 / 100.0)
    }

    /// Resident memory of the server process, in KiB (Linux `/proc`).
    pub(crate) fn rss_kib(&self) -> anyhow::Result<f64> {
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
        let _ = self.child.kill();
        let _ = self.child.wait();
    }
}
