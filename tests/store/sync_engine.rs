//! What the sync engine relies on in the inbox: coalescing, replay, the attempt log and
//! its pruning. Its action intents and object links are in `actions.rs`.

use std::time::Duration;

use serde_json::json;
use tovuti_ghl_bridge::store::{
    ActionRecord, AttemptRecord, Completion, EventId, EventStatus, Millis, NewEvent, ReplayFilter,
    Source, StoreError,
};

use crate::support::{T0, TestDb, claim, event, status_count};

const LATER: Millis = Millis(T0.0 + 3_600_000);

async fn record(db: &TestDb, new: NewEvent) -> EventId {
    db.store.record_event(new).await.unwrap().id()
}

/// Claims every due event as "w", then ends each listed one well (`Ok`) or dead (`Err`).
async fn settle(db: &TestDb, outcomes: &[(EventId, Result<Completion, &str>)]) {
    db.store
        .claim_due_events(&claim("w", LATER, 100))
        .await
        .unwrap();
    for (id, how) in outcomes {
        match how {
            Ok(done) => db.store.complete_event(*id, "w", *done).await.unwrap(),
            Err(error) => db.store.mark_dead(*id, "w", error).await.unwrap(),
        }
    }
}

async fn status_of(db: &TestDb, id: EventId) -> EventStatus {
    db.store.event(id).await.unwrap().expect("stored").status
}

pub async fn a_burst_of_updates_coalesces_to_the_newest(db: &TestDb) {
    let mut burst = Vec::new();
    for n in 0..10 {
        burst.push(record(db, event(&format!("u{n}"), "contact:a")).await);
    }
    let mut delete = event("x", "contact:a");
    delete.event_type = "ContactDelete".into();
    let delete = record(db, delete).await;

    let claimed = db
        .store
        .claim_due_events(&claim("w", T0, 10))
        .await
        .unwrap();
    assert_eq!(claimed.iter().map(|e| e.id).collect::<Vec<_>>(), [burst[0]]);
    assert!(
        claimed[0].newer_waiting,
        "the claim saw the burst's newer updates"
    );
    let stranger = db
        .store
        .supersede_if_newer(burst[0], "other", "contact:a", "ContactUpdate", T0)
        .await;
    assert!(
        matches!(stranger, Err(StoreError::NotFound(_))),
        "{stranger:?}"
    );
    let superseded = db
        .store
        .supersede_if_newer(burst[0], "w", "contact:a", "ContactUpdate", T0)
        .await
        .unwrap();
    assert_eq!(superseded, 9);
    let first = db.store.event(burst[0]).await.unwrap().unwrap();
    assert_eq!(
        (first.status, first.lease_owner),
        (EventStatus::Superseded, None)
    );
    for id in &burst[1..9] {
        assert_eq!(status_of(db, *id).await, EventStatus::Superseded);
    }
    assert_eq!(
        status_count(db.store.as_ref(), EventStatus::Superseded).await,
        9
    );
    assert_eq!(status_of(db, delete).await, EventStatus::Pending);

    let next = db
        .store
        .claim_due_events(&claim("w", T0, 10))
        .await
        .unwrap();
    assert_eq!(next.iter().map(|e| e.id).collect::<Vec<_>>(), [burst[9]]);
    let other_type_only = db
        .store
        .supersede_if_newer(burst[9], "w", "contact:a", "ContactUpdate", T0)
        .await
        .unwrap();
    assert_eq!(
        other_type_only, 0,
        "a newer event of another type is no newer state"
    );
    db.store
        .complete_event(burst[9], "w", Completion::Done)
        .await
        .unwrap();
    let last = db
        .store
        .claim_due_events(&claim("w", T0, 10))
        .await
        .unwrap();
    assert_eq!(last.iter().map(|e| e.id).collect::<Vec<_>>(), [delete]);
}

pub async fn nothing_newer_supersedes_nothing(db: &TestDb) {
    let mine = record(db, event("a1", "contact:a")).await;
    let elsewhere = record(db, event("b1", "contact:b")).await;
    db.store.claim_due_events(&claim("w", T0, 1)).await.unwrap();
    let superseded = db
        .store
        .supersede_if_newer(mine, "w", "contact:a", "ContactUpdate", T0)
        .await
        .unwrap();
    assert_eq!(superseded, 0);
    let kept = db.store.event(mine).await.unwrap().unwrap();
    assert_eq!(
        (kept.status, kept.lease_owner.as_deref()),
        (EventStatus::Processing, Some("w"))
    );
    assert_eq!(status_of(db, elsewhere).await, EventStatus::Pending);
    assert_eq!(
        status_count(db.store.as_ref(), EventStatus::Superseded).await,
        0
    );
}

pub async fn replay_by_id_resets_only_that_dead_event(db: &TestDb) {
    let a = record(db, event("a", "contact:a")).await;
    let b = record(db, event("b", "contact:b")).await;
    settle(db, &[(a, Err("422 invalid email")), (b, Err("422"))]).await;

    let filter = ReplayFilter {
        ids: vec![a],
        ..ReplayFilter::default()
    };
    assert_eq!(
        db.store.replay_events(&filter, LATER, false).await.unwrap(),
        1
    );
    let replayed = db.store.event(a).await.unwrap().unwrap();
    assert_eq!(replayed.status, EventStatus::Pending);
    assert_eq!((replayed.attempts, replayed.next_attempt_at), (0, LATER));
    assert!(replayed.last_error.is_none() && replayed.lease_owner.is_none());
    assert!(replayed.lease_expires_at.is_none());
    assert_eq!(status_of(db, b).await, EventStatus::Dead);
    let again = db
        .store
        .claim_due_events(&claim("w", LATER, 10))
        .await
        .unwrap();
    assert_eq!((again[0].id, again[0].attempts), (a, 1));
}

pub async fn replay_by_status_source_type_and_range_and_dry_run(db: &TestDb) {
    let at = |n: &str, source, event_type: &str, secs| {
        let mut e = event(n, n);
        e.source = source;
        e.event_type = event_type.to_owned();
        e.received_at = T0.plus(Duration::from_secs(secs));
        e
    };
    let early = record(db, at("early", Source::Ghl, "ContactUpdate", 0)).await;
    let wanted = record(db, at("wanted", Source::Ghl, "ContactUpdate", 10)).await;
    let tovuti = record(db, at("tovuti", Source::Tovuti, "ContactUpdate", 10)).await;
    let other = record(db, at("other", Source::Ghl, "TaskCreate", 10)).await;
    let late = record(db, at("late", Source::Ghl, "ContactUpdate", 20)).await;
    let dead = record(db, at("dead", Source::Ghl, "ContactUpdate", 10)).await;
    let done = Ok(Completion::Done);
    let all_done = [early, wanted, tovuti, other, late].map(|id| (id, done));
    settle(db, &all_done).await;
    settle(db, &[(dead, Err("422"))]).await;

    let filter = ReplayFilter {
        statuses: vec![EventStatus::Done],
        source: Some(Source::Ghl),
        event_type: Some("ContactUpdate".into()),
        received_from: Some(T0.plus(Duration::from_secs(10))),
        received_until: Some(T0.plus(Duration::from_secs(20))),
        ..ReplayFilter::default()
    };
    assert_eq!(
        db.store.replay_events(&filter, LATER, true).await.unwrap(),
        1
    );
    assert_eq!(
        status_of(db, wanted).await,
        EventStatus::Done,
        "a dry run changes nothing"
    );
    let dead_only = ReplayFilter::default();
    assert_eq!(
        db.store
            .replay_events(&dead_only, LATER, true)
            .await
            .unwrap(),
        1
    );
    assert_eq!(status_of(db, dead).await, EventStatus::Dead);

    assert_eq!(
        db.store.replay_events(&filter, LATER, false).await.unwrap(),
        1
    );
    assert_eq!(status_of(db, wanted).await, EventStatus::Pending);
    for id in [early, tovuti, other, late] {
        assert_eq!(status_of(db, id).await, EventStatus::Done);
    }
    assert_eq!(status_of(db, dead).await, EventStatus::Dead);
}

pub async fn replay_never_touches_a_processing_event(db: &TestDb) {
    let busy = record(db, event("busy", "contact:a")).await;
    db.store.claim_due_events(&claim("w", T0, 1)).await.unwrap();
    let filter = ReplayFilter {
        ids: vec![busy],
        statuses: vec![EventStatus::Processing, EventStatus::Dead],
        ..ReplayFilter::default()
    };
    assert_eq!(
        db.store.replay_events(&filter, LATER, true).await.unwrap(),
        0
    );
    assert_eq!(
        db.store.replay_events(&filter, LATER, false).await.unwrap(),
        0
    );
    let kept = db.store.event(busy).await.unwrap().unwrap();
    assert_eq!(
        (kept.status, kept.lease_owner.as_deref(), kept.attempts),
        (EventStatus::Processing, Some("w"), 1)
    );
}

fn attempt(event_id: EventId, n: u32, outcome: &str) -> AttemptRecord {
    AttemptRecord {
        event_id,
        attempt: n,
        started_at: T0.plus(Duration::from_secs(u64::from(n))),
        finished_at: T0.plus(Duration::from_secs(u64::from(n) + 1)),
        outcome: outcome.to_owned(),
        error: (outcome != "done").then(|| "GHL answered 502".to_owned()),
        requests: json!([{ "method": "PUT", "url": "/contacts/c-1", "status": 502 }]),
    }
}

pub async fn attempts_are_logged_in_order_per_event(db: &TestDb) {
    let a = EventId::generate();
    let b = EventId::generate();
    let first = attempt(a, 1, "retry");
    let second = attempt(a, 2, "done");
    for record in [&first, &attempt(b, 1, "done"), &second] {
        db.store.record_attempt(record).await.unwrap();
    }
    assert_eq!(db.store.event_attempts(a).await.unwrap(), [first, second]);
    assert_eq!(db.store.event_attempts(b).await.unwrap().len(), 1);
    assert!(
        db.store
            .event_attempts(EventId::generate())
            .await
            .unwrap()
            .is_empty()
    );
}

async fn with_history(db: &TestDb, id: EventId) {
    db.store
        .record_attempt(&attempt(id, 1, "done"))
        .await
        .unwrap();
    let action = ActionRecord {
        idempotency_key: format!("{id}/create_task"),
        event_id: id,
        action: "create_task".into(),
        outcome: json!({ "task_id": "t-1" }),
        recorded_at: T0,
    };
    assert!(db.store.record_action(&action).await.unwrap());
}

async fn has_history(db: &TestDb, id: EventId) -> bool {
    let event = db.store.event(id).await.unwrap().is_some();
    let attempts = !db.store.event_attempts(id).await.unwrap().is_empty();
    let key = format!("{id}/create_task");
    let action = db.store.recorded_action(&key).await.unwrap().is_some();
    assert_eq!(
        (attempts, action),
        (event, event),
        "history goes with its event"
    );
    event
}

pub async fn pruning_removes_old_finished_events_with_their_history(db: &TestDb) {
    let mut ignored = event("ignored", "e-ignored");
    ignored.status = EventStatus::Ignored;
    let old: Vec<EventId> = futures::future::join_all(
        ["done", "echo", "superseded", "dead"].map(|n| record(db, event(n, n))),
    )
    .await;
    let ignored = record(db, ignored).await;
    let mut recent = event("recent", "e-recent");
    recent.received_at = LATER;
    let recent = record(db, recent).await;
    settle(
        db,
        &[
            (old[0], Ok(Completion::Done)),
            (old[1], Ok(Completion::Echo)),
            (old[2], Ok(Completion::Superseded)),
            (old[3], Err("422")),
            (recent, Ok(Completion::Done)),
        ],
    )
    .await;
    let pending = record(db, event("pending", "e-pending")).await;
    for id in old.iter().chain([&ignored, &recent, &pending]) {
        with_history(db, *id).await;
    }

    let cutoff = T0.plus(Duration::from_secs(1));
    assert_eq!(db.store.prune_finished_events(cutoff, 3).await.unwrap(), 3);
    assert_eq!(db.store.prune_finished_events(cutoff, 3).await.unwrap(), 1);
    assert_eq!(db.store.prune_finished_events(cutoff, 3).await.unwrap(), 0);
    for gone in [old[0], old[1], old[2], ignored] {
        assert!(!has_history(db, gone).await, "{gone} pruned");
    }
    for kept in [old[3], recent, pending] {
        assert!(has_history(db, kept).await, "{kept} kept");
    }
}

pub async fn a_claim_says_which_events_have_a_newer_one_of_their_type_waiting(db: &TestDb) {
    let updated = record(db, event("a1", "contact:a")).await;
    record(db, event("a2", "contact:a")).await;
    let alone = record(db, event("b1", "contact:b")).await;
    let mut delete = event("c1", "contact:c");
    delete.event_type = "ContactDelete".into();
    let deleted = record(db, delete).await;
    // A newer event of another type is not a newer update.
    record(db, event("c2", "contact:c")).await;

    let claimed = db
        .store
        .claim_due_events(&claim("w", T0, 10))
        .await
        .unwrap();
    let waiting: Vec<(EventId, bool)> = claimed.iter().map(|e| (e.id, e.newer_waiting)).collect();
    assert_eq!(waiting, [(updated, true), (alone, false), (deleted, false)]);
    // Read other than by a claim, an event says nothing of what waits.
    assert!(
        !db.store
            .event(updated)
            .await
            .unwrap()
            .unwrap()
            .newer_waiting
    );
}
