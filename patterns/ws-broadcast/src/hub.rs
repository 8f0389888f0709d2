//! The hub: who is present, a broadcast that never waits, and the slow member's removal.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, MutexGuard, PoisonError};

use tokio::sync::{mpsc, oneshot};

use crate::{Event, LeaveReason, SharedEvent};

/// Names are 1 to this many characters.
pub const MAX_NAME_LEN: usize = 32;

/// Why [`Hub::join`] refused a name.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum JoinRefused {
    #[error(
        "a name is 1 to {MAX_NAME_LEN} letters, digits, '-' or '_' (got {0:?})",
        MAX_NAME_LEN = MAX_NAME_LEN
    )]
    InvalidName(String),
    #[error("the name {0:?} is taken")]
    NameTaken(String),
    #[error("the server is shutting down")]
    ShuttingDown,
}

/// One line of [`Hub::members`]: a member and the events waiting in its outbox.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct MemberInfo {
    pub name: String,
    pub queued: usize,
}

// ANCHOR: hub
/// The set of connected members. Cloning is cheap; clones share the same room.
#[derive(Debug, Clone)]
pub struct Hub {
    room: Arc<Mutex<Room>>,
    outbox_capacity: usize,
}

#[derive(Debug, Default)]
struct Room {
    members: HashMap<String, Seat>,
    next_id: u64,
    closed: bool,
}

/// What the hub keeps of one member: the sending end of its outbox, and the one-shot
/// channel that tells its [`Inbox`] why it was removed.
#[derive(Debug)]
struct Seat {
    id: u64,
    outbox: mpsc::Sender<Arc<SharedEvent>>,
    removed: oneshot::Sender<LeaveReason>,
}
// ANCHOR_END: hub

impl Hub {
    /// A hub whose members may fall `outbox_capacity` events behind before they are
    /// disconnected (at least 1).
    pub fn new(outbox_capacity: usize) -> Self {
        Self {
            room: Arc::default(),
            outbox_capacity: outbox_capacity.max(1),
        }
    }

    // ANCHOR: join
    /// Registers `name` and announces it to the others. The new member's first event is a
    /// [`Event::Welcome`] listing who was already there.
    pub fn join(&self, name: &str) -> Result<(Speaker, Inbox), JoinRefused> {
        if !is_valid_name(name) {
            return Err(JoinRefused::InvalidName(name.chars().take(64).collect()));
        }
        let (outbox, inbox) = mpsc::channel(self.outbox_capacity);
        let (removed_tx, removed) = oneshot::channel();
        let id = self.seat(name, outbox, removed_tx)?;
        tracing::debug!(name, "joined");
        Ok(self.halves(name, id, inbox, removed))
    }
    // ANCHOR_END: join

    // ANCHOR: join_seat

    /// Seats `name`, its welcome already in its outbox, and tells the others it joined.
    /// Returns the seat's id: a later member of the same name gets another.
    fn seat(
        &self,
        name: &str,
        outbox: mpsc::Sender<Arc<SharedEvent>>,
        removed: oneshot::Sender<LeaveReason>,
    ) -> Result<u64, JoinRefused> {
        let mut room = self.lock();
        if room.closed {
            return Err(JoinRefused::ShuttingDown);
        }
        if room.members.contains_key(name) {
            return Err(JoinRefused::NameTaken(name.to_owned()));
        }
        let mut present: Vec<String> = room.members.keys().cloned().collect();
        present.sort();
        let welcome = Event::Welcome {
            you: name.to_owned(),
            present,
        };
        outbox
            .try_send(SharedEvent::new(welcome))
            .expect("a new outbox has room");
        room.next_id += 1;
        let id = room.next_id;
        self.deliver(&mut room, None, Event::Joined { name: name.into() });
        let seat = Seat {
            id,
            outbox,
            removed,
        };
        room.members.insert(name.to_owned(), seat);
        Ok(id)
    }
    // ANCHOR_END: join_seat

    // ANCHOR: join_halves
    /// The two halves of member `id`. They share one registration: dropping the last of
    /// them is leaving.
    fn halves(
        &self,
        name: &str,
        id: u64,
        events: mpsc::Receiver<Arc<SharedEvent>>,
        removed: oneshot::Receiver<LeaveReason>,
    ) -> (Speaker, Inbox) {
        let registration = Arc::new(Registration {
            hub: self.clone(),
            name: name.to_owned(),
            id,
        });
        let speaker = Speaker {
            registration: Arc::clone(&registration),
        };
        let inbox = Inbox {
            events,
            removed,
            reason: None,
            _registration: registration,
        };
        (speaker, inbox)
    }
    // ANCHOR_END: join_halves

    /// Who is present, sorted by name, with the events waiting in each outbox.
    pub fn members(&self) -> Vec<MemberInfo> {
        let room = self.lock();
        let mut members: Vec<MemberInfo> = room
            .members
            .iter()
            .map(|(name, seat)| MemberInfo {
                name: name.clone(),
                queued: seat.outbox.max_capacity() - seat.outbox.capacity(),
            })
            .collect();
        members.sort_by(|a, b| a.name.cmp(&b.name));
        members
    }

    /// How many events a member may fall behind before it is disconnected.
    pub fn outbox_capacity(&self) -> usize {
        self.outbox_capacity
    }

    /// Refuses new members and removes every member with [`LeaveReason::Shutdown`], so
    /// each transport can say goodbye (a WebSocket Close 1001, a last TCP line).
    pub fn shut_down(&self) {
        let mut room = self.lock();
        room.closed = true;
        for (_, seat) in room.members.drain() {
            let _ = seat.removed.send(LeaveReason::Shutdown);
        }
    }

    // ANCHOR: deliver
    /// Puts `event` in every outbox but `sender`'s, without waiting. A full outbox means
    /// that member fell `outbox_capacity` events behind: it is removed, and the others are
    /// told, which may in turn find another full outbox; hence the work list.
    fn deliver(&self, room: &mut Room, sender: Option<&str>, event: Event) -> usize {
        let event = SharedEvent::new(event);
        let mut delivered = 0;
        let mut too_slow = Vec::new();
        for (name, seat) in &room.members {
            if Some(name.as_str()) == sender {
                continue;
            }
            match seat.outbox.try_send(Arc::clone(&event)) {
                Ok(()) => delivered += 1,
                Err(mpsc::error::TrySendError::Full(_)) => too_slow.push(name.clone()),
                // Its inbox is gone; its registration is about to remove it.
                Err(mpsc::error::TrySendError::Closed(_)) => {}
            }
        }
        let reason = LeaveReason::TooSlow {
            behind: self.outbox_capacity,
        };
        while let Some(name) = too_slow.pop() {
            let Some(seat) = room.members.remove(&name) else {
                continue;
            };
            tracing::info!(name, %reason, "removed");
            let _ = seat.removed.send(reason);
            let left = SharedEvent::new(Event::Left { name, reason });
            for (name, seat) in &room.members {
                if let Err(mpsc::error::TrySendError::Full(_)) =
                    seat.outbox.try_send(Arc::clone(&left))
                {
                    too_slow.push(name.clone());
                }
            }
        }
        delivered
    }
    // ANCHOR_END: deliver

    /// Removes member `id` if it is still seated (not already removed as too slow, or by a
    /// shutdown), and tells the others.
    fn leave(&self, name: &str, id: u64) {
        let mut room = self.lock();
        if room.members.get(name).is_none_or(|seat| seat.id != id) {
            return;
        }
        room.members.remove(name);
        let reason = LeaveReason::Quit;
        self.deliver(
            &mut room,
            None,
            Event::Left {
                name: name.to_owned(),
                reason,
            },
        );
        tracing::debug!(name, "left");
    }

    /// The room's lock. It is only held for synchronous work (no `.await` inside), so a
    /// std mutex is right; a panic cannot happen while it is held, but if one did, the
    /// room is still consistent, so poisoning is ignored.
    fn lock(&self) -> MutexGuard<'_, Room> {
        self.room.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

fn is_valid_name(name: &str) -> bool {
    (1..=MAX_NAME_LEN).contains(&name.chars().count())
        && name
            .chars()
            .all(|c| c.is_alphanumeric() || c == '-' || c == '_')
}

/// Shared by a member's two halves; dropping the last of them is leaving.
#[derive(Debug)]
struct Registration {
    hub: Hub,
    name: String,
    id: u64,
}

impl Drop for Registration {
    fn drop(&mut self) {
        self.hub.leave(&self.name, self.id);
    }
}

// ANCHOR: speaker
/// The sending half of a member: what its reader task holds.
#[derive(Debug)]
pub struct Speaker {
    registration: Arc<Registration>,
}

impl Speaker {
    /// This member's name.
    pub fn name(&self) -> &str {
        &self.registration.name
    }

    /// Broadcasts `text` to every other member and returns how many outboxes took it.
    /// Never waits: a member that cannot take it is removed as too slow. Returns 0 once
    /// this member itself was removed.
    pub fn say(&self, text: impl Into<String>) -> usize {
        let Registration { hub, name, id } = &*self.registration;
        let mut room = hub.lock();
        if room.members.get(name).is_none_or(|seat| seat.id != *id) {
            return 0;
        }
        let event = Event::Message {
            from: name.clone(),
            text: text.into(),
        };
        hub.deliver(&mut room, Some(name), event)
    }
}
// ANCHOR_END: speaker

// ANCHOR: inbox
/// The receiving half of a member: what its writer task holds.
#[derive(Debug)]
pub struct Inbox {
    events: mpsc::Receiver<Arc<SharedEvent>>,
    removed: oneshot::Receiver<LeaveReason>,
    reason: Option<LeaveReason>,
    _registration: Arc<Registration>,
}

impl Inbox {
    /// The next event for this member, or why it was removed from the hub: too slow, or a
    /// shutdown. A removal is reported before the events still queued, which are dropped:
    /// a client that fell behind gets the reason, not a stale backlog.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a losing `select!` branch takes no event, and the next
    /// call returns it.
    pub async fn recv(&mut self) -> Result<Arc<SharedEvent>, LeaveReason> {
        if let Some(reason) = self.reason {
            return Err(reason);
        }
        tokio::select! {
            biased;
            // Fires when the hub removes the member (a one-shot: polled once to the end).
            Ok(reason) = &mut self.removed, if !self.removed.is_terminated() => {
                self.reason = Some(reason);
                Err(reason)
            }
            event = self.events.recv() => event.ok_or(LeaveReason::Quit),
        }
    }
    // ANCHOR_END: inbox

    /// Completes when the hub removes this member, with the reason; pending forever
    /// otherwise. A writer races it against a send that may never finish, because a
    /// client that stops reading blocks the send and fills its outbox.
    ///
    /// # Cancel safety
    ///
    /// This method is cancel safe: a removal is kept until it is reported.
    pub async fn removed(&mut self) -> LeaveReason {
        if let Some(reason) = self.reason {
            return reason;
        }
        if !self.removed.is_terminated()
            && let Ok(reason) = (&mut self.removed).await
        {
            self.reason = Some(reason);
            return reason;
        }
        std::future::pending().await
    }

    /// An event already queued, without waiting: lets a writer send a batch of events and
    /// flush the connection once. `None` when the outbox is empty or the member was
    /// removed (then [`recv`](Self::recv) says why).
    pub fn try_recv(&mut self) -> Option<Arc<SharedEvent>> {
        if self.reason.is_some() || !self.removed.is_empty() {
            return None;
        }
        self.events.try_recv().ok()
    }
}
