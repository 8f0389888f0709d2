//! A test resource that writes what happens to it into a shared journal.
#![allow(dead_code, unreachable_pub)]

use std::sync::{Arc, Mutex};
use std::time::Duration;

use patterns_core::AsyncResource;
use tokio::sync::Notify;

/// Every event of every probe, in order: "open a", "release a", ...
#[derive(Clone, Default)]
pub struct Journal {
    events: Arc<Mutex<Vec<String>>>,
    pub released: Arc<Notify>,
}

impl Journal {
    pub fn events(&self) -> Vec<String> {
        self.events.lock().unwrap().clone()
    }
    pub fn releases(&self) -> Vec<String> {
        self.events()
            .into_iter()
            .filter_map(|e| e.strip_prefix("release ").map(str::to_owned))
            .collect()
    }
    pub fn count(&self, event: &str) -> usize {
        self.events().iter().filter(|e| *e == event).count()
    }
    /// Waits for the next release, failing the test (not hanging it) if none comes.
    pub async fn next_release(&self) {
        tokio::time::timeout(Duration::from_secs(60), self.released.notified())
            .await
            .expect("a release should have happened");
    }
    fn push(&self, event: String) {
        self.events.lock().unwrap().push(event);
    }
}

#[derive(Debug)]
pub struct Probe {
    pub name: &'static str,
    journal: Journal,
    fail_release: bool,
    panic_in_release: bool,
    release_takes: Duration,
}

impl std::fmt::Debug for Journal {
    fn fmt(&self, f: &mut std::fmt::Formatter<'_>) -> std::fmt::Result {
        f.debug_list().entries(self.events()).finish()
    }
}

impl Probe {
    pub async fn open(name: &'static str, journal: &Journal) -> anyhow::Result<Self> {
        tokio::task::yield_now().await;
        journal.push(format!("open {name}"));
        Ok(Self {
            name,
            journal: journal.clone(),
            fail_release: false,
            panic_in_release: false,
            release_takes: Duration::ZERO,
        })
    }
    pub async fn open_failing(name: &'static str, journal: &Journal) -> anyhow::Result<Self> {
        journal.push(format!("failed open {name}"));
        anyhow::bail!("cannot open {name}")
    }
    pub fn failing_release(mut self) -> Self {
        self.fail_release = true;
        self
    }
    /// A release that panics after it has written "release NAME".
    pub fn panicking_release(mut self) -> Self {
        self.panic_in_release = true;
        self
    }
    pub fn slow_release(mut self, takes: Duration) -> Self {
        self.release_takes = takes;
        self
    }
    pub fn touch(&mut self) {
        self.journal.push(format!("use {}", self.name));
    }
}

impl AsyncResource for Probe {
    async fn release(self) -> anyhow::Result<()> {
        self.journal.push(format!("start release {}", self.name));
        tokio::time::sleep(self.release_takes).await;
        self.journal.push(format!("release {}", self.name));
        self.journal.released.notify_one();
        if self.panic_in_release {
            panic!("release of {} panicked", self.name)
        }
        if self.fail_release {
            anyhow::bail!("release of {} failed", self.name)
        }
        Ok(())
    }
}
