//! Upgrading a store that already holds data from the initial schema.

use std::time::Duration;

use tovuti_ghl_bridge::store::{
    ActionBegin, Claim, Completion, EventId, EventStatus, Millis, ReplayFilter,
};

use crate::support::TestDb;

const EVENT: &str = "0190d1a2-0000-7000-8000-000000000001";
const DEAD: &str = "0190d1a2-0000-7000-8000-000000000002";

const SQLITE_SEED: &str = "
INSERT INTO inbox_events (id, source, external_id, event_type, entity_key, received_at, headers, body,
    status, attempts, next_attempt_at, updated_at)
VALUES ('0190d1a2-0000-7000-8000-000000000001', 'ghl', 'wh-1', 'ContactUpdate', 'contact:a', 1, '{}',
        X'7B7D', 'done', 1, 1, 1),
       ('0190d1a2-0000-7000-8000-000000000002', 'ghl', 'wh-2', 'ContactUpdate', 'contact:b', 2, '{}',
        X'7B7D', 'dead', 3, 2, 2);
INSERT INTO action_log (idempotency_key, event_id, action, outcome, recorded_at)
VALUES ('wh-1/create_task', '0190d1a2-0000-7000-8000-000000000001', 'create_task', '{\"task_id\":\"t-1\"}', 5);
";

const POSTGRES_SEED: &str = "
INSERT INTO inbox_events (id, source, external_id, event_type, entity_key, received_at, headers, body,
    status, attempts, next_attempt_at, updated_at)
VALUES ('0190d1a2-0000-7000-8000-000000000001', 'ghl', 'wh-1', 'ContactUpdate', 'contact:a', 1, '{}',
        '\\x7b7d', 'done', 1, 1, 1),
       ('0190d1a2-0000-7000-8000-000000000002', 'ghl', 'wh-2', 'ContactUpdate', 'contact:b', 2, '{}',
        '\\x7b7d', 'dead', 3, 2, 2);
INSERT INTO action_log (idempotency_key, event_id, action, outcome, recorded_at)
VALUES ('wh-1/create_task', '0190d1a2-0000-7000-8000-000000000001', 'create_task', '{\"task_id\":\"t-1\"}', 5);
";

fn id(text: &str) -> EventId {
    EventId(uuid::Uuid::parse_str(text).unwrap())
}

async fn events_and_actions_survive_the_sync_engine_migration(db: &TestDb) {
    db.at_initial_schema_with(SQLITE_SEED, POSTGRES_SEED).await;
    assert!(!db.store.migrations_applied().await.unwrap());
    db.store.migrate().await.unwrap();
    assert!(db.store.migrations_applied().await.unwrap());

    let done = db.store.event(id(EVENT)).await.unwrap().expect("kept");
    assert_eq!(
        (done.status, done.attempts, done.body),
        (EventStatus::Done, 1, b"{}".to_vec())
    );
    let dead = db.store.event(id(DEAD)).await.unwrap().expect("kept");
    assert_eq!((dead.status, dead.attempts), (EventStatus::Dead, 3));
    let action = db.store.recorded_action("wh-1/create_task").await.unwrap();
    assert_eq!(action.expect("an old record is done").event_id, id(EVENT));
    let begin = db
        .store
        .begin_action("wh-1/create_task", id(EVENT), "create_task", Millis(9))
        .await
        .unwrap();
    assert!(matches!(begin, ActionBegin::Done(_)), "{begin:?}");

    // The rebuilt table keeps working: replay, the claim's indexes, the new status.
    let replay = ReplayFilter::default();
    assert_eq!(
        db.store
            .replay_events(&replay, Millis(10), false)
            .await
            .unwrap(),
        1
    );
    let claim = Claim {
        owner: "w".into(),
        now: Millis(10),
        lease: Duration::from_secs(30),
        limit: 5,
    };
    let claimed = db.store.claim_due_events(&claim).await.unwrap();
    assert_eq!(claimed.iter().map(|e| e.id).collect::<Vec<_>>(), [id(DEAD)]);
    db.store
        .complete_event(id(DEAD), "w", Completion::Superseded)
        .await
        .unwrap();
    assert_eq!(
        db.store.event(id(DEAD)).await.unwrap().unwrap().status,
        EventStatus::Superseded
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_upgrade_keeps_events_and_actions() {
    let db = TestDb::sqlite_unmigrated().await;
    events_and_actions_survive_the_sync_engine_migration(&db).await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_upgrade_keeps_events_and_actions() {
    let Some(db) = TestDb::postgres_unmigrated().await else {
        return;
    };
    events_and_actions_survive_the_sync_engine_migration(&db).await;
    db.finish().await;
}

const CONNECTION_SEED: &str = "INSERT INTO connections (id, ghl_location_id, created_at, updated_at) \
     VALUES ('acme', 'loc-acme', 1, 1);";
const LEGACY_A: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA=";
const LEGACY_B: &str = "whsec_c2Vjb25kIHNlY3JldCBmb3Igcm90YXRpb24gdGVzdHM=";

/// Secrets stored before secrets had rows (one credential, space separated) verify
/// after the upgrade, and the first rotation adopts them as rows that then expire.
async fn legacy_webhook_secrets_keep_verifying_and_rotate(db: &TestDb) {
    use secrecy::{ExposeSecret as _, SecretString};
    use tovuti_ghl_bridge::connections::{Connections, live_secrets};

    db.at_initial_schema_with(CONNECTION_SEED, CONNECTION_SEED)
        .await;
    let both = SecretString::from(format!("{LEGACY_A} {LEGACY_B}"));
    let flags = serde_json::json!({ "simple_signature": true });
    db.store
        .save_credentials("acme", "tovuti_webhook_secret", &both, &flags)
        .await
        .unwrap();
    db.store.migrate().await.unwrap();
    let now = Millis::now();
    let texts = |live: &tovuti_ghl_bridge::connections::LiveSecrets| -> Vec<String> {
        live.secrets
            .iter()
            .map(|s| s.expose_secret().to_owned())
            .collect()
    };

    let live = live_secrets(db.store.as_ref(), "acme", now).await.unwrap();
    assert_eq!(texts(&live), [LEGACY_A, LEGACY_B]);
    assert_eq!(live.metadata, flags);

    let mut config = tovuti_ghl_bridge::config::Config::defaults();
    config.security.encryption_key = tovuti_ghl_bridge::config::OptionalSecret::new("set");
    let connections = Connections::new(db.store.clone(), std::sync::Arc::new(config));
    let new = connections
        .add_tovuti_secret_at("acme", Some(Duration::from_secs(60)), now)
        .await
        .unwrap();
    assert_eq!(connections.tovuti_secrets("acme").await.unwrap().len(), 3);
    let during = live_secrets(db.store.as_ref(), "acme", now).await.unwrap();
    assert_eq!(
        texts(&during),
        [LEGACY_A, LEGACY_B, new.secret.expose_secret()]
    );
    assert_eq!(during.metadata, flags, "the flags are kept");
    let after = live_secrets(db.store.as_ref(), "acme", now.plus(Duration::from_secs(60)))
        .await
        .unwrap();
    assert_eq!(texts(&after), [new.secret.expose_secret()]);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_upgrade_keeps_legacy_webhook_secrets() {
    let db = TestDb::sqlite_unmigrated().await;
    legacy_webhook_secrets_keep_verifying_and_rotate(&db).await;
    db.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_upgrade_keeps_legacy_webhook_secrets() {
    let Some(db) = TestDb::postgres_unmigrated().await else {
        return;
    };
    legacy_webhook_secrets_keep_verifying_and_rotate(&db).await;
    db.finish().await;
}
