//! A scripted origin: the test decides, per call, what the origin answers and how long it
//! takes (`tokio::time::sleep`, so paused time applies). Python's `AsyncMock` in Rust.

#![allow(dead_code, unreachable_pub)] // each test file uses part of it

use std::sync::Arc;
use std::sync::atomic::{AtomicU64, Ordering};
use std::time::Duration;

use testing::{LookupError, Origin, User};

/// What one call to the origin does.
#[derive(Debug, Clone)]
pub enum Step {
    Answer,
    Fail(LookupError),
    Panic,
    Hang,
    /// Answers once the test calls `notify_one` on it.
    AnswerAfter(Arc<tokio::sync::Notify>),
}

/// An origin whose every call follows `script(id, call number from 1)`.
#[derive(Clone)]
pub struct ScriptedOrigin {
    calls: Arc<AtomicU64>,
    delay: Duration,
    script: Arc<dyn Fn(u32, u64) -> Step + Send + Sync>,
}

impl ScriptedOrigin {
    pub fn new(delay: Duration, script: impl Fn(u32, u64) -> Step + Send + Sync + 'static) -> Self {
        Self {
            calls: Arc::new(AtomicU64::new(0)),
            delay,
            script: Arc::new(script),
        }
    }

    /// An origin that always answers after `delay`.
    pub fn answering(delay: Duration) -> Self {
        Self::new(delay, |_, _| Step::Answer)
    }

    /// A handle on the number of calls, readable after the origin moved into a cache.
    pub fn calls(&self) -> Arc<AtomicU64> {
        self.calls.clone()
    }
}

pub fn user(id: u32) -> User {
    User {
        id,
        name: format!("User {id}"),
        email: format!("user{id}@example.com"),
    }
}

impl Origin for ScriptedOrigin {
    async fn fetch(&self, id: u32) -> Result<User, LookupError> {
        let call = self.calls.fetch_add(1, Ordering::SeqCst) + 1;
        tokio::time::sleep(self.delay).await;
        match (self.script)(id, call) {
            Step::Answer => Ok(user(id)),
            Step::Fail(error) => Err(error),
            Step::Panic => panic!("the origin's code failed on call {call}"),
            Step::Hang => std::future::pending().await,
            Step::AnswerAfter(release) => {
                release.notified().await;
                Ok(user(id))
            }
        }
    }
}

pub fn calls(counter: &AtomicU64) -> u64 {
    counter.load(Ordering::SeqCst)
}
