//! Measuring on this machine: timed runs on a runtime, memory and CPU time from Linux
//! `/proc`, and where a pattern's Python script is.

use std::future::Future;
use std::path::{Path, PathBuf};
use std::time::{Duration, Instant};

/// Times `runs` runs of the future `make()` returns, each awaited on `runtime`, checking
/// each output. `make` itself runs before the clock starts. One more run before them warms
/// the allocator and the runtime up and is not counted.
pub fn measure<F, Fut, T>(
    runtime: &tokio::runtime::Runtime,
    runs: u32,
    mut make: F,
    mut check: impl FnMut(T) -> anyhow::Result<()>,
) -> anyhow::Result<Vec<Duration>>
where
    F: FnMut() -> Fut,
    Fut: Future<Output = T>,
{
    check(runtime.block_on(make()))?;
    let mut durations = Vec::with_capacity(runs as usize);
    for _ in 0..runs {
        let run = make();
        let started = Instant::now();
        let output = runtime.block_on(run);
        durations.push(started.elapsed());
        check(output)?;
    }
    Ok(durations)
}

/// A runtime and its name: `current_thread` for 0 workers, else `multi_thread`.
pub fn runtime(workers: usize) -> std::io::Result<(&'static str, tokio::runtime::Runtime)> {
    Ok(if workers == 0 {
        let runtime = tokio::runtime::Builder::new_current_thread()
            .enable_all()
            .build()?;
        ("current_thread", runtime)
    } else {
        let runtime = tokio::runtime::Builder::new_multi_thread()
            .worker_threads(workers)
            .enable_all()
            .build()?;
        ("multi_thread", runtime)
    })
}

/// The two runtimes most workloads compare: current-thread, and multi-thread with two
/// workers (one per core of the project's machine).
pub fn runtimes() -> std::io::Result<[(&'static str, tokio::runtime::Runtime); 2]> {
    Ok([runtime(0)?, runtime(2)?])
}

/// The process's peak resident memory since start or the last [`reset_peak_rss`], in MiB
/// (Linux: `VmHWM` of `/proc/self/status`; `None` elsewhere).
pub fn peak_rss_mib() -> Option<f64> {
    let status = std::fs::read_to_string("/proc/self/status").ok()?;
    let line = status.lines().find(|l| l.starts_with("VmHWM:"))?;
    let kib: f64 = line.split_whitespace().nth(1)?.parse().ok()?;
    Some(kib / 1024.0)
}

/// Starts a new peak-memory measurement (Linux: writes 5 to `/proc/self/clear_refs`).
pub fn reset_peak_rss() {
    let _ = std::fs::write("/proc/self/clear_refs", "5");
}

/// CPU time used so far (user + system): by this process, and by its children that have
/// been waited for (Linux: `/proc/self/stat`, in clock ticks of 10 ms; `None` elsewhere).
pub fn cpu_time() -> Option<CpuTime> {
    let stat = std::fs::read_to_string("/proc/self/stat").ok()?;
    // The command name may hold spaces: the fields start after its closing parenthesis.
    let fields: Vec<u64> = stat
        .rsplit_once(')')?
        .1
        .split_whitespace()
        .map(|field| field.parse().unwrap_or(0))
        .collect();
    // Fields 14 to 17 of proc(5): utime, stime, cutime, cstime; here from field 3 on.
    let ticks = |i: usize| fields.get(i - 3).copied();
    let tick = Duration::from_millis(10);
    Some(CpuTime {
        own: tick * u32::try_from(ticks(14)? + ticks(15)?).ok()?,
        children: tick * u32::try_from(ticks(16)? + ticks(17)?).ok()?,
    })
}

/// See [`cpu_time`].
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct CpuTime {
    /// This process's CPU time.
    pub own: Duration,
    /// The CPU time of its finished children.
    pub children: Duration,
}

/// Waits until the machine's one-minute load average is at most `quiet`, checking every
/// 5 s for at most `most`; returns whether it got there. A benchmark that starts while
/// something else runs measures the other thing too. The load average decays over about
/// a minute, so after a workload that kept both cores busy this takes a minute or two.
/// Where the system gives no load average there is nothing to wait for.
pub fn wait_for_quiet(quiet: f64, most: Duration) -> bool {
    let deadline = Instant::now() + most;
    loop {
        match crate::provenance::load_avg().first() {
            None => return true,
            Some(load) if *load <= quiet => return true,
            Some(_) if Instant::now() >= deadline => return false,
            Some(_) => std::thread::sleep(Duration::from_secs(5)),
        }
    }
}

/// The path of a pattern's Python bench script: `python/<name>` in the crate whose
/// `CARGO_MANIFEST_DIR` is `crate_dir`.
pub fn python_script(crate_dir: &str, name: &str) -> PathBuf {
    Path::new(crate_dir).join("python").join(name)
}
