//! The promises around the flows: one effect per event however often it arrives, the
//! newest state wins a burst, our own writes are not sent back, failures retry, dead
//! events replay, and an expired token costs one refresh.

use serde_json::json;
use tovuti_ghl_bridge::config::DEFAULT_CONNECTION;
use tovuti_ghl_bridge::platforms::ghl::client::{TokenGrant, save_grant};
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, Fault};
use tovuti_ghl_bridge::store::{EventStatus, Millis, ReplayFilter, Source};

use crate::support::{Backend, Env, LOCATION, tovuti_event};

pub async fn the_same_webhook_three_times_has_one_effect(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let note = tovuti_event("note.created", "evt-dup");
    for _ in 0..3 {
        assert_eq!(env.send_tovuti(&note).await.status, 200);
    }
    env.drain().await;
    // A replay of the finished event repeats nothing either.
    let replay = ReplayFilter {
        statuses: vec![EventStatus::Done],
        ..ReplayFilter::default()
    };
    let store = &env.state.store;
    assert_eq!(
        store
            .replay_events(&replay, Millis::now(), false)
            .await
            .unwrap(),
        1
    );
    env.drain().await;

    let contacts = env.ghl.contacts();
    assert_eq!(contacts.len(), 1);
    let notes = env
        .ghl
        .activities("notes", contacts[0]["id"].as_str().unwrap());
    assert_eq!(notes.len(), 1, "{notes:?}");
    env.finish().await;
}

pub async fn a_burst_of_edits_costs_one_request_and_ends_newest(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    assert_eq!(
        env.send_tovuti(&tovuti_event("user.created", "evt-new"))
            .await
            .status,
        200
    );
    env.drain().await;
    let before = env.ghl_requests();
    for i in 0..10 {
        let mut edit = tovuti_event("user.updated", &format!("evt-edit-{i}"));
        edit["data"]["user"]["name"] = json!(format!("Ada Edit{i}"));
        assert_eq!(env.send_tovuti(&edit).await.status, 200);
    }
    env.drain().await;

    let after = env.ghl_requests();
    let sent = &after[before.len()..];
    assert_eq!(sent.len(), 1, "one write for ten edits: {sent:?}");
    let contact = &env.ghl.contacts()[0];
    assert_eq!(contact["lastName"], "Edit9", "{contact}");
    let counts = store_counts(&env).await;
    assert_eq!(counts.get(&EventStatus::Superseded), Some(&9), "{counts:?}");
    let metrics = env.state.metrics.encode();
    assert!(
        metrics.contains("bridge_events_superseded_total 9"),
        "{metrics}"
    );
    env.finish().await;
}

async fn store_counts(env: &Env) -> std::collections::HashMap<EventStatus, u64> {
    env.state
        .store
        .count_events_by_status()
        .await
        .unwrap()
        .into_iter()
        .collect()
}

pub async fn our_own_write_echoed_back_is_not_forwarded(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    assert_eq!(
        env.send_tovuti(&tovuti_event("user.created", "evt-echo"))
            .await
            .status,
        200
    );
    env.drain().await;
    // GHL reports the contact as we wrote it.
    let mut echo = env.ghl.contacts()[0].clone();
    echo["type"] = json!("ContactUpdate");
    echo["locationId"] = json!(LOCATION);
    echo["webhookId"] = json!("wh-echo-1");
    let tovuti_before = env.tovuti.requests().len();
    let delivery = env.send_ghl(&echo).await;
    assert_eq!(delivery.status, 200);
    env.drain().await;

    assert_eq!(env.event(&delivery).await.status, EventStatus::Echo);
    let tovuti_writes: Vec<_> = env.tovuti.requests()[tovuti_before..]
        .iter()
        .filter(|(m, _)| m != "GET")
        .cloned()
        .collect();
    assert!(tovuti_writes.is_empty(), "{tovuti_writes:?}");
    env.finish().await;
}

pub async fn a_5xx_then_success_is_done_after_two_attempts(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    env.ghl.inject([Fault::Status(500)]);
    let delivery = env
        .send_tovuti(&tovuti_event("note.created", "evt-flaky"))
        .await;
    let t0 = Millis::now();
    env.drain_at(t0).await;
    let first = env.event(&delivery).await;
    assert_eq!(first.status, EventStatus::Retrying, "{first:?}");
    env.drain_at(t0.plus(std::time::Duration::from_secs(5)))
        .await;

    let done = env.event(&delivery).await;
    assert_eq!((done.status, done.attempts), (EventStatus::Done, 2));
    let log = env.state.store.event_attempts(done.id).await.unwrap();
    let outcomes: Vec<&str> = log.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["retry", "done"]);
    // The first attempt also read the tenant's catalog, to resolve the mapping's names.
    let failed = log[0].requests.as_array().unwrap();
    let ghl: Vec<_> = failed.iter().filter(|r| r["platform"] == "ghl").collect();
    assert_eq!(ghl[0]["outcome"], "500", "{failed:?}");
    env.finish().await;
}

pub async fn a_422_is_dead_with_the_answer_then_replayed(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    another_learner_synced(&env).await;
    env.ghl.inject([Fault::Status(422)]);
    let delivery = env
        .send_tovuti(&tovuti_event("user.created", "evt-invalid"))
        .await;
    env.drain().await;
    let dead = env.event(&delivery).await;
    assert_eq!(dead.status, EventStatus::Dead);
    assert!(
        dead.last_error.as_deref().unwrap().contains("422"),
        "{dead:?}"
    );

    let filter = ReplayFilter {
        source: Some(Source::Tovuti),
        ..ReplayFilter::default()
    };
    let store = &env.state.store;
    assert_eq!(
        store
            .replay_events(&filter, Millis::now(), true)
            .await
            .unwrap(),
        1
    );
    assert_eq!(
        store
            .replay_events(&filter, Millis::now(), false)
            .await
            .unwrap(),
        1
    );
    env.drain().await;
    assert_eq!(env.event(&delivery).await.status, EventStatus::Done);
    assert_eq!(env.ghl.contacts().len(), 2);
    env.finish().await;
}

pub async fn an_expired_token_mid_stream_refreshes_once(backend: Backend) {
    let Some(env) = Env::start_with(backend, |config| {
        config.ghl.token = tovuti_ghl_bridge::config::OptionalSecret::new("");
        config.ghl.client_id = "fake-client-id".into();
        config.ghl.client_secret =
            tovuti_ghl_bridge::config::OptionalSecret::new("fake-client-secret");
    })
    .await
    else {
        return;
    };
    let grant = TokenGrant {
        access_token: env.ghl.issue_token(LOCATION, ALL_SCOPES).into(),
        refresh_token: Some(env.ghl.issue_refresh_token(LOCATION, ALL_SCOPES).into()),
        expires_in: 86_399,
        scope: ALL_SCOPES.join(" "),
        user_type: Some("Location".into()),
        location_id: Some(LOCATION.into()),
        company_id: None,
    };
    save_grant(env.state.store.as_ref(), DEFAULT_CONNECTION, &grant, None)
        .await
        .unwrap();
    let mut deliveries = Vec::new();
    for i in 0..3 {
        let note = tovuti_event("note.created", &format!("evt-tok-{i}"));
        deliveries.push(env.send_tovuti(&note).await);
    }
    env.drain().await;
    env.ghl.expire_tokens(LOCATION);
    for i in 3..6 {
        let note = tovuti_event("note.created", &format!("evt-tok-{i}"));
        deliveries.push(env.send_tovuti(&note).await);
    }
    env.drain().await;

    assert_eq!(env.ghl.token_endpoint_calls(), 1);
    for delivery in &deliveries {
        assert_eq!(env.event(delivery).await.status, EventStatus::Done);
    }
    let contact = env.ghl.contacts()[0]["id"].as_str().unwrap().to_owned();
    assert_eq!(env.ghl.activities("notes", &contact).len(), 6);
    env.finish().await;
}

/// Syncs a learner other than Ada, so the engine has read the location's custom fields
/// and a fault injected next hits the write under test.
async fn another_learner_synced(env: &Env) {
    let mut first = tovuti_event("user.created", "evt-another");
    first["data"]["user"]["id"] = json!(4000);
    first["data"]["user"]["email"] = json!("another@example.com");
    assert_eq!(env.send_tovuti(&first).await.status, 200);
    env.drain().await;
}

/// A Tovuti `user.updated` for Ada that happened at `at` and renames her.
fn rename(id: &str, last_name: &str, at: &str) -> serde_json::Value {
    let mut edit = tovuti_event("user.updated", id);
    edit["data"]["user"]["name"] = json!(format!("Ada {last_name}"));
    edit["occurred_at"] = json!(at);
    edit
}

pub async fn an_older_update_arriving_late_does_not_roll_back(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let newer = rename("evt-newer", "Newer", "2026-11-29T10:00:05Z");
    assert_eq!(env.send_tovuti(&newer).await.status, 200);
    env.drain().await;
    let older = env
        .send_tovuti(&rename("evt-older", "Older", "2026-11-29T10:00:01Z"))
        .await;
    env.drain().await;

    assert_eq!(env.event(&older).await.status, EventStatus::Superseded);
    assert_eq!(env.ghl.contacts()[0]["lastName"], "Newer");
    env.finish().await;
}

pub async fn a_retried_update_never_overwrites_a_newer_one(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    another_learner_synced(&env).await;
    env.ghl.inject([Fault::Status(503)]);
    let first = env
        .send_tovuti(&rename("evt-first", "First", "2026-11-29T10:00:01Z"))
        .await;
    let t0 = Millis::now();
    env.drain_at(t0).await;
    assert_eq!(env.event(&first).await.status, EventStatus::Retrying);
    // The newer edit waits behind the retrying one (same learner), then wins.
    let second = env
        .send_tovuti(&rename("evt-second", "Second", "2026-11-29T10:00:02Z"))
        .await;
    env.drain_at(t0).await;
    assert_eq!(env.event(&second).await.status, EventStatus::Pending);
    env.drain_at(t0.plus(std::time::Duration::from_secs(5)))
        .await;

    assert_eq!(env.event(&first).await.status, EventStatus::Superseded);
    assert_eq!(env.event(&second).await.status, EventStatus::Done);
    let ada: Vec<_> = env
        .ghl
        .contacts()
        .into_iter()
        .filter(|c| c["email"] == "ada.king@example.com")
        .collect();
    assert_eq!(ada.len(), 1);
    assert_eq!(ada[0]["lastName"], "Second");
    env.finish().await;
}
