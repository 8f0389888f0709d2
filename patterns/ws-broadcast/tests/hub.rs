//! The hub alone, without a network: who hears what, in which order, and what happens to a
//! member that stops reading. Time is paused; nothing here sleeps.

use std::time::Duration;

use tokio::time::timeout;
use ws_broadcast::{Event, Hub, Inbox, JoinRefused, LeaveReason, MemberInfo};

fn message(from: &str, text: &str) -> Event {
    Event::Message {
        from: from.into(),
        text: text.into(),
    }
}

/// Every event queued for `inbox` right now.
fn drain(inbox: &mut Inbox) -> Vec<Event> {
    std::iter::from_fn(|| inbox.try_recv())
        .map(|shared| shared.event().clone())
        .collect()
}

#[tokio::test(start_paused = true)]
async fn everyone_else_hears_each_message_once_in_order() {
    let hub = Hub::new(1000);
    let (ada, mut ada_in) = hub.join("ada").unwrap();
    let (bob, mut bob_in) = hub.join("bob").unwrap();
    let (_cy, mut cy_in) = hub.join("cy").unwrap();
    for n in 0..100 {
        assert_eq!(ada.say(format!("a{n}")), 2, "bob and cy, not ada herself");
        assert_eq!(bob.say(format!("b{n}")), 2);
    }
    let to_cy = drain(&mut cy_in);
    let said: Vec<Event> = (0..100)
        .flat_map(|n| {
            [
                message("ada", &format!("a{n}")),
                message("bob", &format!("b{n}")),
            ]
        })
        .collect();
    assert_eq!(
        to_cy[1..],
        said,
        "cy hears both, interleaved as they were said"
    );
    let to_ada = drain(&mut ada_in);
    assert_eq!(
        to_ada[0],
        Event::Welcome {
            you: "ada".into(),
            present: vec![]
        }
    );
    assert_eq!(
        &to_ada[1..3],
        &[
            Event::Joined { name: "bob".into() },
            Event::Joined { name: "cy".into() }
        ]
    );
    let heard: Vec<_> = to_ada[3..].to_vec();
    let from_bob: Vec<_> = said
        .iter()
        .filter(|e| matches!(e, Event::Message { from, .. } if from == "bob"))
        .cloned()
        .collect();
    assert_eq!(heard, from_bob, "ada hears only bob, never herself");
    assert_eq!(
        drain(&mut bob_in)[0],
        Event::Welcome {
            you: "bob".into(),
            present: vec!["ada".into()]
        }
    );
}

#[tokio::test(start_paused = true)]
async fn names_are_checked_and_unique() {
    let hub = Hub::new(8);
    let _ada = hub.join("ada").unwrap();
    assert_eq!(
        hub.join("ada").unwrap_err(),
        JoinRefused::NameTaken("ada".into())
    );
    for bad in ["", "a b", "x".repeat(33).as_str(), "ada\n", "<script>"] {
        assert!(
            matches!(hub.join(bad), Err(JoinRefused::InvalidName(_))),
            "{bad:?} accepted"
        );
    }
    assert_eq!(hub.members().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn dropping_both_halves_leaves_and_the_others_are_told() {
    let hub = Hub::new(8);
    let (_ada, mut ada_in) = hub.join("ada").unwrap();
    let (bob, bob_in) = hub.join("bob").unwrap();
    drop(bob);
    assert_eq!(
        hub.members().len(),
        2,
        "the inbox half still holds the seat"
    );
    drop(bob_in);
    assert_eq!(hub.members().len(), 1);
    let events = drain(&mut ada_in);
    assert_eq!(
        events.last(),
        Some(&Event::Left {
            name: "bob".into(),
            reason: LeaveReason::Quit
        })
    );
    // The name is free again.
    assert!(hub.join("bob").is_ok());
}

#[tokio::test(start_paused = true)]
async fn a_panicking_member_task_still_leaves() {
    let hub = Hub::new(8);
    let (_ada, mut ada_in) = hub.join("ada").unwrap();
    let member = hub.join("bob").unwrap();
    let task = tokio::spawn(async move {
        let _member = member;
        panic!("a bug in bob's connection task");
    });
    assert!(task.await.unwrap_err().is_panic());
    assert_eq!(hub.members().len(), 1);
    assert!(matches!(drain(&mut ada_in).last(), Some(Event::Left { name, .. }) if name == "bob"));
}

#[tokio::test(start_paused = true)]
async fn a_member_that_stops_reading_is_removed_and_the_others_get_everything() {
    let capacity = 16;
    let hub = Hub::new(capacity);
    let (ada, _ada_in) = hub.join("ada").unwrap();
    let (_slow, mut slow_in) = hub.join("slow").unwrap();
    let (_bob, mut bob_in) = hub.join("bob").unwrap();
    drain(&mut bob_in);
    let mut bob_heard = 0;
    let mut most_queued = 0;
    for n in 0..1000 {
        ada.say(format!("{n}"));
        most_queued = most_queued.max(hub.members().iter().map(|m| m.queued).max().unwrap());
        // bob reads as he goes; slow never does.
        bob_heard += drain(&mut bob_in)
            .iter()
            .filter(|e| matches!(e, Event::Message { .. }))
            .count();
    }
    assert_eq!(bob_heard, 1000, "bob lost nothing");
    assert!(
        most_queued <= capacity,
        "an outbox held {most_queued} events"
    );
    assert_eq!(
        hub.members()
            .iter()
            .map(|m| m.name.as_str())
            .collect::<Vec<_>>(),
        ["ada", "bob"]
    );
    // slow learns why first, not its stale backlog.
    let reason = timeout(Duration::from_secs(1), slow_in.recv())
        .await
        .unwrap();
    assert_eq!(
        reason.unwrap_err(),
        LeaveReason::TooSlow { behind: capacity }
    );
}

#[tokio::test(start_paused = true)]
async fn queued_events_are_observable() {
    let hub = Hub::new(8);
    let (ada, _ada_in) = hub.join("ada").unwrap();
    let (_bob, mut bob_in) = hub.join("bob").unwrap();
    ada.say("one");
    ada.say("two");
    let bob_queued = |hub: &Hub| hub.members().into_iter().find(|m| m.name == "bob").unwrap();
    assert_eq!(
        bob_queued(&hub),
        MemberInfo {
            name: "bob".into(),
            queued: 3 // welcome, one, two
        }
    );
    bob_in.recv().await.unwrap();
    assert_eq!(bob_queued(&hub).queued, 2);
}

#[tokio::test(start_paused = true)]
async fn recv_dropped_mid_await_loses_no_event() {
    let hub = Hub::new(8);
    let (ada, _ada_in) = hub.join("ada").unwrap();
    let (_bob, mut bob_in) = hub.join("bob").unwrap();
    bob_in.recv().await.unwrap(); // welcome
    // Nothing to receive: the recv is dropped while it waits.
    cancel_check::drop_pending_after(bob_in.recv(), tokio::time::sleep(Duration::from_secs(1)))
        .await;
    ada.say("after the cancelled recv");
    let event = bob_in.recv().await.unwrap();
    assert_eq!(event.event(), &message("ada", "after the cancelled recv"));
}

#[tokio::test(start_paused = true)]
async fn removed_dropped_mid_await_keeps_the_reason() {
    let hub = Hub::new(8);
    let (_bob, mut bob_in) = hub.join("bob").unwrap();
    cancel_check::drop_pending_after(bob_in.removed(), tokio::time::sleep(Duration::from_secs(1)))
        .await;
    hub.shut_down();
    assert_eq!(bob_in.removed().await, LeaveReason::Shutdown);
    assert_eq!(bob_in.recv().await.unwrap_err(), LeaveReason::Shutdown);
}

#[tokio::test(start_paused = true)]
async fn shut_down_removes_everyone_and_refuses_newcomers() {
    let hub = Hub::new(8);
    let (_ada, mut ada_in) = hub.join("ada").unwrap();
    let (bob, mut bob_in) = hub.join("bob").unwrap();
    hub.shut_down();
    assert!(hub.members().is_empty());
    assert_eq!(ada_in.recv().await.unwrap_err(), LeaveReason::Shutdown);
    assert_eq!(bob_in.recv().await.unwrap_err(), LeaveReason::Shutdown);
    assert_eq!(bob.say("anyone?"), 0);
    assert_eq!(hub.join("cy").unwrap_err(), JoinRefused::ShuttingDown);
}

#[tokio::test(start_paused = true)]
async fn a_newcomer_alone_is_told_nobody_else_is_here() {
    let hub = Hub::new(8);
    let (_ada, mut ada_in) = hub.join("ada").unwrap();
    let (_bob, mut bob_in) = hub.join("bob").unwrap();
    let lines: Vec<String> = [drain(&mut ada_in), drain(&mut bob_in)]
        .iter()
        .map(|events| events[0].to_string())
        .collect();
    assert_eq!(
        lines,
        [
            "* welcome ada; nobody else is here",
            "* welcome bob; here: ada"
        ]
    );
}

/// A member removed as too slow frees its name while its halves are still held. Whoever
/// joins under that name next is a different member: the old halves neither speak for it
/// nor take it away when they are dropped.
#[tokio::test(start_paused = true)]
async fn the_halves_of_a_removed_member_do_not_touch_the_newcomer_with_its_name() {
    let hub = Hub::new(2);
    let (bob, mut bob_in) = hub.join("bob").unwrap();
    let (old_ada, _old_ada_in) = hub.join("ada").unwrap();
    drain(&mut bob_in);
    bob.say("one"); // ada never reads: her outbox of two is full with her welcome and this
    bob.say("two"); // so this one removes her
    assert_eq!(hub.members().len(), 1);
    drain(&mut bob_in);
    let (_new_ada, mut new_ada_in) = hub.join("ada").unwrap();
    drain(&mut bob_in);
    drain(&mut new_ada_in);

    assert_eq!(
        old_ada.say("from the old ada"),
        0,
        "the old ada is no member"
    );
    assert!(drain(&mut bob_in).is_empty());
    drop((old_ada, _old_ada_in));
    let names: Vec<String> = hub.members().into_iter().map(|m| m.name).collect();
    assert_eq!(names, ["ada", "bob"], "the new ada is still seated");
    assert_eq!(bob.say("hello"), 1);
    assert_eq!(drain(&mut new_ada_in), [message("bob", "hello")]);
}

#[test]
fn the_outbox_capacity_is_the_one_asked_for_and_at_least_one() {
    assert_eq!(Hub::new(16).outbox_capacity(), 16);
    assert_eq!(Hub::new(0).outbox_capacity(), 1);
}

#[test]
fn a_speaker_knows_its_own_name() {
    let hub = Hub::new(4);
    let (ada, _ada_in) = hub.join("ada").unwrap();
    assert_eq!(ada.name(), "ada");
}

/// Once the hub has removed a member, its inbox hands out no more queued events: the
/// reason comes first, from `recv` or `removed`.
#[tokio::test(start_paused = true)]
async fn a_removed_member_gets_its_reason_and_no_stale_event() {
    let hub = Hub::new(2);
    let (ada, _ada_in) = hub.join("ada").unwrap();
    let (_slow, mut slow_in) = hub.join("slow").unwrap();
    ada.say("one"); // slow's outbox: its welcome and this
    ada.say("two"); // full: slow is removed
    assert!(slow_in.try_recv().is_none(), "queued events are stale now");
    let reason = timeout(Duration::from_secs(1), slow_in.removed()).await;
    assert_eq!(reason, Ok(LeaveReason::TooSlow { behind: 2 }));
    assert_eq!(
        slow_in.recv().await.unwrap_err(),
        LeaveReason::TooSlow { behind: 2 }
    );
}
