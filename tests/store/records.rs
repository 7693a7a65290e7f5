//! Connections, credentials, sync state, poll state, named leases, migrations.

use std::time::Duration;

use secrecy::{ExposeSecret, SecretString};
use serde_json::json;
use tovuti_ghl_bridge::store::{
    ActionRecord, ConnectionStatus, Direction, EventId, Millis, NewConnection, Snapshot, StoreError,
};

use crate::support::{T0, TestDb};

async fn connection(db: &TestDb, id: &str, location: &str) {
    let new = NewConnection {
        id: id.to_owned(),
        ghl_location_id: Some(location.to_owned()),
        tovuti_base_url: Some("https://acme.tovuti.io".to_owned()),
    };
    db.store.upsert_connection(&new).await.unwrap();
}

pub async fn credentials_are_encrypted_at_rest_and_round_trip(db: &TestDb) {
    connection(db, "acme", "loc-1").await;
    let secret =
        SecretString::from(r#"{"access_token":"pit-9f8e7d6c5b4a","refresh_token":"rt-0a1b2c3d"}"#);
    let metadata =
        json!({ "expires_at": 1_800_000_086_400_000_i64, "scopes": ["contacts.readonly"] });
    db.store
        .save_credentials("acme", "ghl_oauth", &secret, &metadata)
        .await
        .unwrap();

    let loaded = db
        .store
        .load_credentials("acme", "ghl_oauth")
        .await
        .unwrap()
        .expect("stored");
    assert_eq!(loaded.secret.expose_secret(), secret.expose_secret());
    assert_eq!(loaded.metadata, metadata);
    let raw = db.raw_credential_bytes().await;
    assert_eq!(raw.len(), 1);
    for needle in ["pit-9f8e7d6c5b4a", "rt-0a1b2c3d", "access_token"] {
        assert!(
            !raw[0].windows(needle.len()).any(|w| w == needle.as_bytes()),
            "{needle} stored in clear"
        );
    }
    assert!(
        db.store
            .load_credentials("acme", "tovuti")
            .await
            .unwrap()
            .is_none()
    );
    assert_eq!(db.store.erase_credentials("acme").await.unwrap(), 1);
    assert!(
        db.store
            .load_credentials("acme", "ghl_oauth")
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn credentials_are_refused_without_an_encryption_key(db: &TestDb) {
    connection(db, "acme", "loc-1").await;
    let keyless = db.another_handle(None).await;
    let refused = keyless
        .save_credentials("acme", "ghl_pit", &SecretString::from("pit-1"), &json!({}))
        .await;
    let error = refused.expect_err("no key, no storing");
    assert!(matches!(error, StoreError::EncryptionKeyMissing));
    assert!(
        error.to_string().contains("BRIDGE_ENCRYPTION_KEY"),
        "{error}"
    );
    // Another key cannot read what this one wrote.
    db.store
        .save_credentials("acme", "ghl_pit", &SecretString::from("pit-1"), &json!({}))
        .await
        .unwrap();
    let stranger = db.another_handle(Some(crate::support::cipher())).await;
    assert!(matches!(
        stranger.load_credentials("acme", "ghl_pit").await,
        Err(StoreError::Decrypt)
    ));
    keyless.close().await;
    stranger.close().await;
}

pub async fn connections_are_found_by_location_and_change_status(db: &TestDb) {
    connection(db, "acme", "loc-1").await;
    connection(db, "globex", "loc-2").await;
    let found = db
        .store
        .connection_for_location("loc-2")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(
        (found.id.as_str(), found.status),
        ("globex", ConnectionStatus::Active)
    );
    assert!(
        db.store
            .connection_for_location("loc-unknown")
            .await
            .unwrap()
            .is_none()
    );

    db.store
        .set_connection_status("acme", ConnectionStatus::NeedsReauth, Some("invalid_grant"))
        .await
        .unwrap();
    let acme = db.store.connection("acme").await.unwrap().unwrap();
    assert_eq!(
        (acme.status, acme.status_reason.as_deref()),
        (ConnectionStatus::NeedsReauth, Some("invalid_grant"))
    );
    let missing = db
        .store
        .set_connection_status("nope", ConnectionStatus::Active, None)
        .await;
    assert!(matches!(missing, Err(StoreError::NotFound(_))));

    connection(db, "acme", "loc-3").await;
    assert_eq!(
        db.store
            .connection_for_location("loc-3")
            .await
            .unwrap()
            .unwrap()
            .id,
        "acme"
    );
    let ids: Vec<_> = db
        .store
        .list_connections()
        .await
        .unwrap()
        .into_iter()
        .map(|c| c.id)
        .collect();
    assert_eq!(ids, ["acme", "globex"]);
}

pub async fn identity_links_are_one_to_one_and_relink(db: &TestDb) {
    connection(db, "acme", "loc-1").await;
    let s = &db.store;
    s.link_identity("acme", "user-1", "contact-a")
        .await
        .unwrap();
    assert_eq!(
        s.ghl_contact_for_user("acme", "user-1")
            .await
            .unwrap()
            .as_deref(),
        Some("contact-a")
    );
    assert_eq!(
        s.tovuti_user_for_contact("acme", "contact-a")
            .await
            .unwrap()
            .as_deref(),
        Some("user-1")
    );

    // The contact was merged in GHL: the user now points at the survivor.
    s.link_identity("acme", "user-1", "contact-b")
        .await
        .unwrap();
    assert_eq!(
        s.ghl_contact_for_user("acme", "user-1")
            .await
            .unwrap()
            .as_deref(),
        Some("contact-b")
    );
    assert!(
        s.tovuti_user_for_contact("acme", "contact-a")
            .await
            .unwrap()
            .is_none()
    );

    assert!(s.unlink_contact("acme", "contact-b").await.unwrap());
    assert!(!s.unlink_contact("acme", "contact-b").await.unwrap());
    assert!(
        s.ghl_contact_for_user("acme", "user-1")
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn fingerprints_and_the_action_log_remember_writes(db: &TestDb) {
    connection(db, "acme", "loc-1").await;
    let s = &db.store;
    let key = "tovuti:user:1";
    assert!(
        s.last_written_fingerprint("acme", key, Direction::ToGhl)
            .await
            .unwrap()
            .is_none()
    );
    s.remember_written_fingerprint("acme", key, Direction::ToGhl, "fp-1", T0)
        .await
        .unwrap();
    s.remember_written_fingerprint("acme", key, Direction::ToGhl, "fp-2", T0)
        .await
        .unwrap();
    assert_eq!(
        s.last_written_fingerprint("acme", key, Direction::ToGhl)
            .await
            .unwrap()
            .as_deref(),
        Some("fp-2")
    );
    assert!(
        s.last_written_fingerprint("acme", key, Direction::ToTovuti)
            .await
            .unwrap()
            .is_none()
    );

    let record = ActionRecord {
        idempotency_key: "evt-1/create_task/0".into(),
        event_id: EventId::generate(),
        action: "create_task".into(),
        outcome: json!({ "task_id": "task-42" }),
        recorded_at: T0,
    };
    assert!(s.record_action(&record).await.unwrap());
    let mut retry = record.clone();
    retry.outcome = json!({ "task_id": "task-43" });
    assert!(
        !s.record_action(&retry).await.unwrap(),
        "the first outcome stands"
    );
    assert_eq!(
        s.recorded_action(&record.idempotency_key).await.unwrap(),
        Some(record)
    );
    assert!(s.recorded_action("unknown").await.unwrap().is_none());
}

pub async fn poll_cursors_and_snapshots_are_kept_per_connection(db: &TestDb) {
    connection(db, "acme", "loc-1").await;
    let s = &db.store;
    assert!(s.poll_cursor("acme", "users").await.unwrap().is_none());
    s.save_poll_cursor("acme", "users", "page-1").await.unwrap();
    s.save_poll_cursor("acme", "users", "page-2").await.unwrap();
    assert_eq!(
        s.poll_cursor("acme", "users").await.unwrap().as_deref(),
        Some("page-2")
    );

    let snapshot = Snapshot {
        digest: "abc".into(),
        state: json!({ "email": "a@example.com" }),
        updated_at: T0,
    };
    s.save_poll_snapshot("acme", "tovuti:user:1", &snapshot)
        .await
        .unwrap();
    assert_eq!(
        s.poll_snapshot("acme", "tovuti:user:1").await.unwrap(),
        Some(snapshot)
    );
    assert!(
        s.poll_snapshot("acme", "tovuti:user:2")
            .await
            .unwrap()
            .is_none()
    );
}

pub async fn the_applied_time_of_an_entity_only_moves_forward(db: &TestDb) {
    connection(db, "acme", "loc-1").await;
    connection(db, "other", "loc-2").await;
    let s = &db.store;
    assert_eq!(s.applied_at("acme", "tovuti:user:1").await.unwrap(), None);
    s.remember_applied("acme", "tovuti:user:1", Millis(2_000))
        .await
        .unwrap();
    // An update applied late, out of order, must not move the time back.
    s.remember_applied("acme", "tovuti:user:1", Millis(1_000))
        .await
        .unwrap();
    assert_eq!(
        s.applied_at("acme", "tovuti:user:1").await.unwrap(),
        Some(Millis(2_000))
    );
    s.remember_applied("acme", "tovuti:user:1", Millis(3_000))
        .await
        .unwrap();
    assert_eq!(
        s.applied_at("acme", "tovuti:user:1").await.unwrap(),
        Some(Millis(3_000))
    );
    // Per connection and per entity.
    assert_eq!(s.applied_at("other", "tovuti:user:1").await.unwrap(), None);
    assert_eq!(s.applied_at("acme", "tovuti:user:2").await.unwrap(), None);
}

pub async fn a_named_lease_has_one_holder_until_it_expires(db: &TestDb) {
    let s = &db.store;
    let ttl = Duration::from_secs(15);
    assert!(
        s.try_acquire_lease("lane:loc-1", "a", T0, ttl)
            .await
            .unwrap()
    );
    assert!(
        !s.try_acquire_lease("lane:loc-1", "b", T0, ttl)
            .await
            .unwrap()
    );
    assert!(
        s.try_acquire_lease("lane:loc-1", "a", T0.plus(Duration::from_secs(10)), ttl)
            .await
            .unwrap(),
        "renewal"
    );
    let after_expiry = T0.plus(Duration::from_secs(26));
    assert!(
        s.try_acquire_lease("lane:loc-1", "b", after_expiry, ttl)
            .await
            .unwrap()
    );
    s.release_lease("lane:loc-1", "a").await.unwrap();
    assert!(
        !s.try_acquire_lease("lane:loc-1", "a", after_expiry, ttl)
            .await
            .unwrap(),
        "a no longer holds it"
    );
    s.release_lease("lane:loc-1", "b").await.unwrap();
    assert!(
        s.try_acquire_lease("lane:loc-1", "a", Millis(after_expiry.0), ttl)
            .await
            .unwrap()
    );
}

pub async fn migrations_are_reported_applied(db: &TestDb) {
    db.store.ping().await.unwrap();
    assert!(db.store.migrations_applied().await.unwrap());
}
