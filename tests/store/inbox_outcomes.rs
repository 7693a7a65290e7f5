//! What becomes of a claimed event: retried, postponed, dead, released; ignored events;
//! and the summary of what is still open.

use std::time::Duration;

use tovuti_ghl_bridge::store::{Completion, EventStatus, Millis, OPEN_EVENTS_SQL};

use crate::support::{T0, TestDb, claim, event, status_count};

pub async fn a_retry_waits_until_its_time_and_counts_an_attempt(db: &TestDb) {
    let store = &db.store;
    let id = store.record_event(event("wh", "e")).await.unwrap().id();
    store.claim_due_events(&claim("w", T0, 1)).await.unwrap();
    let at = T0.plus(Duration::from_secs(60));
    store
        .schedule_retry(id, "w", at, "GHL answered 502")
        .await
        .unwrap();

    let waiting = store.event(id).await.unwrap().unwrap();
    assert_eq!(
        (waiting.status, waiting.next_attempt_at),
        (EventStatus::Retrying, at)
    );
    assert_eq!(waiting.last_error.as_deref(), Some("GHL answered 502"));
    assert!(waiting.lease_owner.is_none());
    assert!(
        store
            .claim_due_events(&claim("w", Millis(at.0 - 1), 1))
            .await
            .unwrap()
            .is_empty()
    );
    let due = store.claim_due_events(&claim("w", at, 1)).await.unwrap();
    assert_eq!((due[0].id, due[0].attempts), (id, 2));
}

pub async fn a_postponed_event_does_not_spend_an_attempt(db: &TestDb) {
    let store = &db.store;
    let id = store.record_event(event("wh", "e")).await.unwrap().id();
    store.claim_due_events(&claim("w", T0, 1)).await.unwrap();
    let until = T0.plus(Duration::from_secs(10));
    store.postpone_event(id, "w", until).await.unwrap();
    let waiting = store.event(id).await.unwrap().unwrap();
    assert_eq!(
        (waiting.status, waiting.attempts, waiting.next_attempt_at),
        (EventStatus::Pending, 0, until)
    );
}

pub async fn a_dead_event_keeps_its_error_and_stops_blocking_its_entity(db: &TestDb) {
    let store = &db.store;
    let first = store
        .record_event(event("wh-1", "contact:a"))
        .await
        .unwrap()
        .id();
    let second = store
        .record_event(event("wh-2", "contact:a"))
        .await
        .unwrap()
        .id();
    store.claim_due_events(&claim("w", T0, 5)).await.unwrap();
    store
        .mark_dead(first, "w", "422 {\"message\":[\"email is invalid\"]}")
        .await
        .unwrap();

    let dead = store.event(first).await.unwrap().unwrap();
    assert_eq!(dead.status, EventStatus::Dead);
    assert!(dead.last_error.unwrap().contains("email is invalid"));
    let next = store.claim_due_events(&claim("w", T0, 5)).await.unwrap();
    assert_eq!(next.iter().map(|e| e.id).collect::<Vec<_>>(), vec![second]);
    assert_eq!(status_count(store.as_ref(), EventStatus::Dead).await, 1);
}

pub async fn released_leases_are_claimable_again_without_spending_attempts(db: &TestDb) {
    let store = &db.store;
    store.record_event(event("wh-1", "a")).await.unwrap();
    store.record_event(event("wh-2", "b")).await.unwrap();
    store
        .claim_due_events(&claim("stopping", T0, 5))
        .await
        .unwrap();
    assert_eq!(store.release_leases("someone-else").await.unwrap(), 0);
    assert_eq!(store.release_leases("stopping").await.unwrap(), 2);
    let again = store.claim_due_events(&claim("next", T0, 5)).await.unwrap();
    assert_eq!(again.len(), 2);
    assert!(
        again.iter().all(|e| e.attempts == 1),
        "released attempts are not counted"
    );
}

pub async fn ignored_events_are_kept_but_never_claimed(db: &TestDb) {
    let store = &db.store;
    let mut unknown = event("wh-x", "x");
    unknown.status = EventStatus::Ignored;
    unknown.note = Some("no connection for location loc-unknown".into());
    let id = store.record_event(unknown).await.unwrap().id();
    assert!(
        store
            .claim_due_events(&claim("w", T0, 5))
            .await
            .unwrap()
            .is_empty()
    );
    let kept = store.event(id).await.unwrap().unwrap();
    assert_eq!(kept.status, EventStatus::Ignored);
    assert_eq!(
        kept.last_error.as_deref(),
        Some("no connection for location loc-unknown")
    );
}

pub async fn the_open_summary_counts_unfinished_events_and_their_oldest(db: &TestDb) {
    let store = &db.store;
    let mut later = event("wh-late", "b");
    later.received_at = T0.plus(Duration::from_secs(5));
    store.record_event(later).await.unwrap();
    let early = store
        .record_event(event("wh-early", "a"))
        .await
        .unwrap()
        .id();
    let done = store
        .record_event(event("wh-done", "c"))
        .await
        .unwrap()
        .id();
    let claimed = store
        .claim_due_events(&claim("w", T0.plus(Duration::from_secs(5)), 10))
        .await
        .unwrap();
    assert_eq!(claimed.len(), 3);
    store
        .complete_event(done, "w", Completion::Done)
        .await
        .unwrap();
    store.mark_dead(early, "w", "422").await.unwrap();
    let summary = store.open_events_summary().await.unwrap();
    let of = |status| summary.iter().find(|o| o.status == status).copied();
    let processing = of(EventStatus::Processing).expect("one processing");
    assert_eq!(
        (processing.count, processing.oldest_received_at),
        (1, T0.plus(Duration::from_secs(5)))
    );
    let dead = of(EventStatus::Dead).expect("one dead");
    assert_eq!((dead.count, dead.oldest_received_at), (1, T0));
    assert!(
        of(EventStatus::Done).is_none(),
        "finished events are not summarised"
    );
    assert!(of(EventStatus::Pending).is_none());
}

/// The summary is counted every second for the backlog bound and on every /metrics
/// scrape, while finished events pile up in the inbox: it must read only its index.
pub async fn the_open_summary_reads_only_its_index_never_the_inbox(db: &TestDb) {
    let plan = db.query_plan(OPEN_EVENTS_SQL).await;
    if db.backend() == "sqlite" {
        assert!(
            plan.contains("USING COVERING INDEX inbox_events_open"),
            "{plan}"
        );
    } else {
        assert!(plan.contains("on inbox_events_open"), "{plan}");
    }
    assert!(!plan.contains("SCAN inbox_events\n"), "{plan}");
    assert!(!plan.contains("Seq Scan"), "{plan}");
}
