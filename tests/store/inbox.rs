//! Inbox scenarios: dedupe, claims, leases and ordering. What becomes of a claimed event
//! is in `inbox_outcomes.rs`.

use std::collections::HashSet;
use std::time::Duration;

use tovuti_ghl_bridge::store::{Completion, EventStatus, Millis, Recorded, Source, StoreError};

use crate::support::{LEASE, T0, TestDb, claim, event, status_count};

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
