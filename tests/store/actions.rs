//! What the sync engine relies on for its writes: action intents that survive a crash and
//! finish once, and object links to the latest remote id.

use std::time::Duration;

use serde_json::json;
use tovuti_ghl_bridge::store::{ActionBegin, ActionRecord, EventId, NewConnection};

use crate::support::{T0, TestDb};

pub async fn an_action_intent_survives_a_crash_and_is_finished_once(db: &TestDb) {
    let s = &db.store;
    let event_id = EventId::generate();
    let key = "evt-1/create_task";
    let begin = s
        .begin_action(key, event_id, "create_task", T0)
        .await
        .unwrap();
    assert_eq!(begin, ActionBegin::Fresh);
    // The worker crashed here; the retry finds the intent, not an outcome.
    let later = T0.plus(Duration::from_secs(60));
    let retry = s
        .begin_action(key, event_id, "create_task", later)
        .await
        .unwrap();
    assert_eq!(retry, ActionBegin::Unfinished { started_at: T0 });
    assert!(s.recorded_action(key).await.unwrap().is_none());

    let outcome = json!({ "task_id": "task-42" });
    s.finish_action(key, &outcome, later).await.unwrap();
    let done = ActionRecord {
        idempotency_key: key.to_owned(),
        event_id,
        action: "create_task".into(),
        outcome,
        recorded_at: later,
    };
    let third = s
        .begin_action(key, event_id, "create_task", later)
        .await
        .unwrap();
    assert_eq!(third, ActionBegin::Done(done.clone()));
    assert_eq!(s.recorded_action(key).await.unwrap(), Some(done));

    s.finish_action("no-begin", &json!({ "ok": true }), T0)
        .await
        .unwrap();
    let unbegun = s
        .recorded_action("no-begin")
        .await
        .unwrap()
        .expect("recorded");
    assert_eq!(unbegun.outcome, json!({ "ok": true }));
}

pub async fn record_action_finishes_a_started_intent(db: &TestDb) {
    let s = &db.store;
    let record = ActionRecord {
        idempotency_key: "evt-2/create_note".into(),
        event_id: EventId::generate(),
        action: "create_note".into(),
        outcome: json!({ "note_id": "n-1" }),
        recorded_at: T0,
    };
    s.begin_action(&record.idempotency_key, record.event_id, "create_note", T0)
        .await
        .unwrap();
    assert!(s.record_action(&record).await.unwrap());
    let mut again = record.clone();
    again.outcome = json!({ "note_id": "n-2" });
    assert!(
        !s.record_action(&again).await.unwrap(),
        "the first outcome stands"
    );
    assert_eq!(
        s.recorded_action(&record.idempotency_key).await.unwrap(),
        Some(record)
    );
}

pub async fn object_links_remember_the_latest_remote_id(db: &TestDb) {
    for (id, location) in [("acme", "loc-1"), ("globex", "loc-2")] {
        let new = NewConnection {
            id: id.to_owned(),
            ghl_location_id: Some(location.to_owned()),
            tovuti_base_url: None,
        };
        db.store.upsert_connection(&new).await.unwrap();
    }
    let s = &db.store;
    let key = "user-1/course-7/milestone-3";
    assert!(s.object_id("acme", "task", key).await.unwrap().is_none());
    s.remember_object("acme", "task", key, "task-1", T0)
        .await
        .unwrap();
    s.remember_object("acme", "task", key, "task-2", T0)
        .await
        .unwrap();
    assert_eq!(
        s.object_id("acme", "task", key).await.unwrap().as_deref(),
        Some("task-2")
    );
    assert!(
        s.object_id("acme", "appointment", key)
            .await
            .unwrap()
            .is_none()
    );
    assert!(s.object_id("globex", "task", key).await.unwrap().is_none());
    s.remember_object("globex", "task", key, "task-9", T0)
        .await
        .unwrap();
    assert_eq!(
        s.object_id("acme", "task", key).await.unwrap().as_deref(),
        Some("task-2")
    );
}

pub async fn concurrent_begins_of_one_action_leave_one_fresh(db: &TestDb) {
    let event_id = EventId::generate();
    let replicas = [db.another_replica().await, db.another_replica().await];
    let begins = (0..20).map(|n| {
        let store = replicas[n % 2].clone();
        tokio::spawn(async move {
            store
                .begin_action("evt-3/create_task", event_id, "create_task", T0)
                .await
                .unwrap()
        })
    });
    let outcomes: Vec<ActionBegin> = futures::future::join_all(begins)
        .await
        .into_iter()
        .map(Result::unwrap)
        .collect();
    let fresh = outcomes
        .iter()
        .filter(|b| **b == ActionBegin::Fresh)
        .count();
    assert_eq!(fresh, 1, "{outcomes:?}");
    assert!(
        outcomes
            .iter()
            .all(|b| matches!(b, ActionBegin::Fresh | ActionBegin::Unfinished { .. }))
    );
    for replica in replicas {
        replica.close().await;
    }
}
