//! The worker's writes as many events finish at once: the group commit writes the rows
//! of one statement together, and each caller must still get its own answer.

use futures::future::join_all;
use serde_json::json;
use tovuti_ghl_bridge::store::{
    ActionBegin, AttemptRecord, Completion, EventStatus, Millis, NewConnection, StoreError,
};

use crate::support::{T0, TestDb, claim, event, status_count};

const EVENTS: usize = 40;

pub async fn many_events_finishing_at_once_each_get_their_own_answer(db: &TestDb) {
    let store = &db.store;
    for n in 0..EVENTS {
        let new = event(&format!("wh-{n}"), &format!("ghl:contact:{n}"));
        store.record_event(new).await.unwrap();
    }
    let claimed = store
        .claim_due_events(&claim("w1", T0, u32::try_from(EVENTS).unwrap()))
        .await
        .unwrap();
    assert_eq!(claimed.len(), EVENTS);

    // One of them is completed by a worker that does not hold its lease.
    let completions = claimed.iter().enumerate().map(|(n, e)| {
        let owner = if n == 7 { "w2" } else { "w1" };
        store.complete_event(e.id, owner, Completion::Done)
    });
    let answers = join_all(completions).await;
    for (n, answer) in answers.iter().enumerate() {
        if n == 7 {
            assert!(matches!(answer, Err(StoreError::NotFound(_))), "{answer:?}");
        } else {
            assert!(answer.is_ok(), "event {n}: {answer:?}");
        }
    }
    assert_eq!(status_count(store.as_ref(), EventStatus::Done).await, 39);
    assert_eq!(
        status_count(store.as_ref(), EventStatus::Processing).await,
        1
    );

    let attempts = claimed.iter().enumerate().map(|(n, e)| async move {
        let record = AttemptRecord {
            event_id: e.id,
            attempt: 1,
            started_at: T0,
            finished_at: T0.plus(std::time::Duration::from_millis(5)),
            outcome: "done".to_owned(),
            error: (n % 2 == 0).then(|| format!("error {n}")),
            requests: json!([{ "n": n }]),
        };
        store.record_attempt(&record).await
    });
    assert!(join_all(attempts).await.iter().all(Result::is_ok));
    for (n, e) in claimed.iter().enumerate() {
        let log = store.event_attempts(e.id).await.unwrap();
        assert_eq!(log.len(), 1, "event {n}");
        assert_eq!(log[0].requests, json!([{ "n": n }]));
        assert_eq!(log[0].error, (n % 2 == 0).then(|| format!("error {n}")));
    }

    // Five intents exist already: their begins are not fresh, the others are.
    for (n, e) in claimed.iter().enumerate().take(5) {
        store
            .begin_action(&format!("k-{n}"), e.id, "note", T0)
            .await
            .unwrap();
    }
    let begins = claimed.iter().enumerate().map(|(n, e)| async move {
        store
            .begin_action(&format!("k-{n}"), e.id, "note", T0)
            .await
    });
    for (n, begin) in join_all(begins).await.into_iter().enumerate() {
        let fresh = matches!(begin.unwrap(), ActionBegin::Fresh);
        assert_eq!(fresh, n >= 5, "action {n}");
    }
}

pub async fn links_and_applied_times_written_at_once_keep_their_rules(db: &TestDb) {
    let new = NewConnection {
        id: "acme".to_owned(),
        ghl_location_id: Some("loc-1".to_owned()),
        tovuti_base_url: Some("https://acme.tovuti.io".to_owned()),
    };
    db.store.upsert_connection(&new).await.unwrap();
    let store = &db.store;
    store
        .link_identity("acme", "user-old", "contact-0")
        .await
        .unwrap();

    // Twenty users linked at once; user 0 takes contact 0 from an older link; users
    // "a" and "b" both claim contact "x", and whichever is written last holds it.
    let mut links: Vec<(String, String)> = (0..20)
        .map(|n| (format!("user-{n}"), format!("contact-{n}")))
        .collect();
    links.push(("user-a".to_owned(), "contact-x".to_owned()));
    links.push(("user-b".to_owned(), "contact-x".to_owned()));
    let written = links
        .iter()
        .map(|(user, contact)| store.link_identity("acme", user, contact));
    assert!(join_all(written).await.iter().all(Result::is_ok));
    for n in 0..20 {
        let contact = store
            .ghl_contact_for_user("acme", &format!("user-{n}"))
            .await
            .unwrap();
        assert_eq!(contact, Some(format!("contact-{n}")));
    }
    let old = store
        .ghl_contact_for_user("acme", "user-old")
        .await
        .unwrap();
    assert_eq!(old, None, "the older link of contact 0 is gone");
    let holder = store
        .tovuti_user_for_contact("acme", "contact-x")
        .await
        .unwrap();
    let holder = holder.expect("one of the two holds contact x");
    let other = if holder == "user-a" {
        "user-b"
    } else {
        "user-a"
    };
    assert_eq!(
        store.ghl_contact_for_user("acme", other).await.unwrap(),
        None
    );

    // Applied times written at once: an older one never replaces a newer one.
    store
        .remember_applied("acme", "tovuti:user:0", Millis(T0.0 + 100))
        .await
        .unwrap();
    let applied = (0..10).map(|n| {
        let at = if n == 0 { T0 } else { Millis(T0.0 + n) };
        let entity = format!("tovuti:user:{n}");
        async move { store.remember_applied("acme", &entity, at).await }
    });
    assert!(join_all(applied).await.iter().all(Result::is_ok));
    let first = store.applied_at("acme", "tovuti:user:0").await.unwrap();
    assert_eq!(first, Some(Millis(T0.0 + 100)));
    let ninth = store.applied_at("acme", "tovuti:user:9").await.unwrap();
    assert_eq!(ninth, Some(Millis(T0.0 + 9)));
}
