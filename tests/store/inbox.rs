//! Inbox scenarios: dedupe, claims, leases, ordering, retries, dead letters.

use std::collections::HashSet;
use std::time::Duration;

use tovuti_ghl_bridge::store::{
    Claim, Completion, EventStatus, Millis, OPEN_EVENTS_SQL, Recorded, Source, StoreError,
};

use crate::support::{T0, TestDb, event, status_count};

const LEASE: Duration = Duration::from_secs(30);

fn claim(owner: &str, now: Millis, limit: u32) -> Claim {
    Claim {
        owner: owner.to_owned(),
        now,
        lease: LEASE,
        limit,
    }
}

pub async fn a_new_event_is_recorded_once_and_redeliveries_are_duplicates(db: &TestDb) {
    let store = &db.store;
    let first = store
        .record_event(event("wh-1", "ghl:contact:a"))
        .await
        .unwrap();
    let again = store
        .record_event(event("wh-1", "ghl:contact:a"))
        .await
        .unwrap();
    let Recorded::New(id) = first else {
        panic!("first delivery must be new, got {first:?}")
    };
    assert_eq!(again, Recorded::Duplicate(id));

    let mut from_tovuti = event("wh-1", "tovuti:user:1");
    from_tovuti.source = Source::Tovuti;
    assert!(
        matches!(store.record_event(from_tovuti).await.unwrap(), Recorded::New(other) if other != id)
    );

    let stored = store.event(id).await.unwrap().expect("stored");
    assert_eq!(stored.body, br#"{"webhookId":"wh-1"}"#);
    assert_eq!(stored.status, EventStatus::Pending);
    assert_eq!(stored.headers["content-type"], "application/json");
    assert_eq!(stored.attempts, 0);
}

pub async fn fifty_concurrent_deliveries_of_one_event_make_one_row(db: &TestDb) {
    let deliveries = (0..50).map(|_| {
        let store = db.store.clone();
        tokio::spawn(async move {
            store
                .record_event(event("wh-same", "ghl:contact:a"))
                .await
                .unwrap()
        })
    });
    let outcomes = futures::future::join_all(deliveries).await;
    let outcomes: Vec<Recorded> = outcomes.into_iter().map(Result::unwrap).collect();
    let new = outcomes
        .iter()
        .filter(|o| matches!(o, Recorded::New(_)))
        .count();
    assert_eq!(new, 1, "exactly one delivery is new: {outcomes:?}");
    let ids: HashSet<_> = outcomes.iter().map(|o| o.id()).collect();
    assert_eq!(ids.len(), 1, "every delivery names the same row");
    assert_eq!(
        status_count(db.store.as_ref(), EventStatus::Pending).await,
        1
    );
}

pub async fn claims_lease_due_events_in_receive_order(db: &TestDb) {
    let store = &db.store;
    let mut ids = Vec::new();
    for n in 0..3 {
        ids.push(
            store
                .record_event(event(&format!("wh-{n}"), &format!("e{n}")))
                .await
                .unwrap()
                .id(),
        );
    }
    let first = store.claim_due_events(&claim("w1", T0, 2)).await.unwrap();
    assert_eq!(first.iter().map(|e| e.id).collect::<Vec<_>>(), ids[..2]);
    for e in &first {
        assert_eq!(e.status, EventStatus::Processing);
        assert_eq!(e.attempts, 1);
        assert_eq!(e.lease_owner.as_deref(), Some("w1"));
        assert_eq!(e.lease_expires_at, Some(T0.plus(LEASE)));
    }
    let second = store.claim_due_events(&claim("w1", T0, 2)).await.unwrap();
    assert_eq!(second.iter().map(|e| e.id).collect::<Vec<_>>(), ids[2..]);
    assert!(
        store
            .claim_due_events(&claim("w1", T0, 2))
            .await
            .unwrap()
            .is_empty()
    );
    // Not due before it was received.
    let early = store
        .record_event(event("wh-late", "e9"))
        .await
        .unwrap()
        .id();
    assert!(
        store
            .claim_due_events(&claim("w1", Millis(T0.0 - 1), 5))
            .await
            .unwrap()
            .is_empty()
    );
    assert_eq!(
        store.claim_due_events(&claim("w1", T0, 5)).await.unwrap()[0].id,
        early
    );
}

pub async fn an_entity_is_never_claimed_twice_or_out_of_order(db: &TestDb) {
    let store = &db.store;
    let a1 = store
        .record_event(event("a1", "contact:a"))
        .await
        .unwrap()
        .id();
    let a2 = store
        .record_event(event("a2", "contact:a"))
        .await
        .unwrap()
        .id();
    let b1 = store
        .record_event(event("b1", "contact:b"))
        .await
        .unwrap()
        .id();

    let claimed: Vec<_> = store
        .claim_due_events(&claim("w", T0, 10))
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(claimed, vec![a1, b1], "a2 waits for a1");
    assert!(
        store
            .claim_due_events(&claim("w", T0, 10))
            .await
            .unwrap()
            .is_empty()
    );

    store
        .complete_event(a1, "w", Completion::Done)
        .await
        .unwrap();
    let next: Vec<_> = store
        .claim_due_events(&claim("w", T0, 10))
        .await
        .unwrap()
        .iter()
        .map(|e| e.id)
        .collect();
    assert_eq!(next, vec![a2]);
}

pub async fn two_concurrent_claimers_never_get_the_same_event(db: &TestDb) {
    for n in 0..200 {
        db.store
            .record_event(event(&format!("wh-{n}"), &format!("entity-{}", n % 50)))
            .await
            .unwrap();
    }
    let replicas = [db.another_handle(None).await, db.another_handle(None).await];
    let claimers = replicas.into_iter().enumerate().map(|(n, store)| {
        tokio::spawn(async move {
            let owner = format!("replica-{n}");
            let mut mine = Vec::new();
            loop {
                let batch = store.claim_due_events(&claim(&owner, T0, 7)).await.unwrap();
                if batch.is_empty() {
                    // Events still blocked behind another replica's lease are not ours to take.
                    if mine.len() >= 200
                        || store
                            .count_events_by_status()
                            .await
                            .unwrap()
                            .iter()
                            .all(|(s, n)| *s != EventStatus::Pending || *n == 0)
                    {
                        break;
                    }
                    tokio::task::yield_now().await;
                    continue;
                }
                for e in batch {
                    store
                        .complete_event(e.id, &owner, Completion::Done)
                        .await
                        .unwrap();
                    mine.push(e.id);
                }
            }
            store.close().await;
            mine
        })
    });
    let results = futures::future::join_all(claimers).await;
    let all: Vec<_> = results.into_iter().flat_map(Result::unwrap).collect();
    let unique: HashSet<_> = all.iter().collect();
    assert_eq!(all.len(), 200, "every event processed exactly once");
    assert_eq!(unique.len(), 200, "no event claimed twice");
    assert_eq!(
        status_count(db.store.as_ref(), EventStatus::Done).await,
        200
    );
}

pub async fn an_expired_lease_is_reclaimed_and_the_old_owner_loses_it(db: &TestDb) {
    let store = &db.store;
    let id = store.record_event(event("wh", "e")).await.unwrap().id();
    store
        .claim_due_events(&claim("crashed", T0, 1))
        .await
        .unwrap();

    assert_eq!(
        store
            .reclaim_expired_leases(T0.plus(Duration::from_secs(10)))
            .await
            .unwrap(),
        0
    );
    let later = T0.plus(Duration::from_secs(31));
    assert_eq!(store.reclaim_expired_leases(later).await.unwrap(), 1);
    let reclaimed = store.event(id).await.unwrap().unwrap();
    assert_eq!(reclaimed.status, EventStatus::Retrying);
    assert!(reclaimed.last_error.unwrap().contains("lease expired"));

    let again = store
        .claim_due_events(&claim("healthy", later, 1))
        .await
        .unwrap();
    assert_eq!(again[0].id, id);
    assert_eq!(again[0].attempts, 2, "the crashed attempt counts");
    let late = store.complete_event(id, "crashed", Completion::Done).await;
    assert!(matches!(late, Err(StoreError::NotFound(_))), "{late:?}");
    store
        .complete_event(id, "healthy", Completion::Done)
        .await
        .unwrap();
}

pub async fn an_extended_lease_outlives_its_first_expiry_only_for_its_owner(db: &TestDb) {
    let store = &db.store;
    let id = store.record_event(event("wh", "e")).await.unwrap().id();
    store.claim_due_events(&claim("slow", T0, 1)).await.unwrap();
    let renewed_until = T0.plus(Duration::from_secs(90));
    store.extend_lease(id, "slow", renewed_until).await.unwrap();

    let past_first_lease = T0.plus(Duration::from_secs(31));
    assert_eq!(
        store
            .reclaim_expired_leases(past_first_lease)
            .await
            .unwrap(),
        0
    );
    let other = store.extend_lease(id, "other", renewed_until).await;
    assert!(matches!(other, Err(StoreError::NotFound(_))), "{other:?}");
    let held = store.event(id).await.unwrap().unwrap();
    assert_eq!(held.lease_expires_at, Some(renewed_until));
    let after = renewed_until.plus(Duration::from_secs(1));
    assert_eq!(store.reclaim_expired_leases(after).await.unwrap(), 1);
}

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
