//! What members receive: an [`Event`], shared by every outbox as one [`SharedEvent`], and why
//! a member left.

use std::fmt;
use std::sync::{Arc, OnceLock};

use serde::{Deserialize, Serialize};

// ANCHOR: event
/// What a member receives. Serialized as JSON for the WebSocket clients (`{"kind":
/// "message", "from": "ada", "text": "hi"}`) and as a line of text for the TCP ones.
#[derive(Debug, Clone, PartialEq, Eq, Serialize, Deserialize)]
#[serde(tag = "kind", rename_all = "snake_case")]
pub enum Event {
    /// The first event of every member: who was already there.
    Welcome { you: String, present: Vec<String> },
    /// Somebody joined.
    Joined { name: String },
    /// Somebody left, and why.
    Left { name: String, reason: LeaveReason },
    /// Somebody said something.
    Message { from: String, text: String },
}
// ANCHOR_END: event

// ANCHOR: shared
/// An event as every outbox shares it: one allocation per broadcast, not one per member,
/// and its JSON encoded once, by the first writer that needs it, not once per member.
#[derive(Debug, Clone)]
pub struct SharedEvent {
    event: Event,
    json: OnceLock<bytes::Bytes>,
}

impl SharedEvent {
    pub(crate) fn new(event: Event) -> Arc<Self> {
        Arc::new(Self {
            event,
            json: OnceLock::new(),
        })
    }

    /// The event.
    pub fn event(&self) -> &Event {
        &self.event
    }

    /// The event as JSON, encoded on the first call; later calls share the same bytes.
    pub fn json(&self) -> bytes::Bytes {
        self.json
            .get_or_init(|| {
                serde_json::to_vec(&self.event)
                    .expect("an event always serializes")
                    .into()
            })
            .clone()
    }
}
// ANCHOR_END: shared

impl fmt::Display for SharedEvent {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.event.fmt(f)
    }
}

/// Why a member left the hub.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum LeaveReason {
    /// The member's connection ended: it closed, failed, or its task was dropped.
    Quit,
    /// Its outbox was full: it fell this many events behind and was disconnected.
    TooSlow { behind: usize },
    /// The server is shutting down.
    Shutdown,
}

impl fmt::Display for LeaveReason {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Quit => write!(f, "quit"),
            Self::TooSlow { behind } => write!(f, "too slow: {behind} messages behind"),
            Self::Shutdown => write!(f, "server shutting down"),
        }
    }
}

impl fmt::Display for Event {
    /// The TCP transport's line for this event (without the newline).
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        match self {
            Self::Welcome { you, present } if present.is_empty() => {
                write!(f, "* welcome {you}; nobody else is here")
            }
            Self::Welcome { you, present } => {
                write!(f, "* welcome {you}; here: {}", present.join(", "))
            }
            Self::Joined { name } => write!(f, "* {name} joined"),
            Self::Left { name, reason } => write!(f, "* {name} left ({reason})"),
            Self::Message { from, text } => write!(f, "{from}: {text}"),
        }
    }
}
