//! Connections as records: create, change, validation, the read-only `default`, views
//! without secrets, webhook secret rotation with explicit instants, pause and removal.

use std::sync::Arc;
use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::connections::{
    ConnectionError, ConnectionInput, ConnectionPatch, Connections, live_secrets,
};
use tovuti_ghl_bridge::store::{Cipher, ConnectionStatus, Millis, PollerOverrides};

use crate::support::{T0, TestDb};

const GHL_TOKEN: &str = "pit-planted-5e0b1d";
const TOVUTI_TOKEN: &str = "tovuti-planted-77c2";
const VALID_MAPPING: &str = concat!(env!("CARGO_MANIFEST_DIR"), "/config/mapping.example.toml");
const BROKEN_MAPPING: &str = concat!(
    env!("CARGO_MANIFEST_DIR"),
    "/tests/fixtures/mapping/broken.toml"
);

fn config() -> Arc<Config> {
    let mut config = Config::defaults();
    config.ghl.location_id = "loc-default".into();
    config.ghl.token = OptionalSecret::new("pit-default-planted-31aa");
    config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
    Arc::new(config)
}

fn connections(db: &TestDb) -> Connections {
    Connections::new(db.store.clone(), config())
}

fn input(id: &str, location: &str) -> ConnectionInput {
    ConnectionInput {
        id: id.into(),
        name: Some(format!("Tenant {id}")),
        ghl_location_id: location.into(),
        ghl_token: Some(SecretString::from(GHL_TOKEN)),
        tovuti_base_url: Some("https://tenant.example.com/api/v1".into()),
        tovuti_token: Some(SecretString::from(TOVUTI_TOKEN)),
        tovuti_auth_mode: Default::default(),
        mapping_path: None,
        poller: PollerOverrides::default(),
    }
}

fn is_invalid<T: std::fmt::Debug>(result: Result<T, ConnectionError>, field: &str) {
    match result {
        Err(ConnectionError::Invalid(text)) => assert!(text.contains(field), "{text}"),
        other => panic!("expected Invalid({field}), got {other:?}"),
    }
}

/// A mapping file the service cannot use is about its disk, not the request's form.
fn is_unusable<T: std::fmt::Debug>(result: Result<T, ConnectionError>, field: &str) {
    match result {
        Err(ConnectionError::Unusable(text)) => assert!(text.contains(field), "{text}"),
        other => panic!("expected Unusable({field}), got {other:?}"),
    }
}

pub async fn connections_are_created_listed_and_changed(db: &TestDb) {
    let c = connections(db);

    let created = c.create(input("acme", "loc-acme")).await.unwrap();

    assert_eq!(created.status, "active");
    assert!(!created.read_only);
    assert!(created.ghl.token.set && created.tovuti.token.set);
    assert_eq!(created.tovuti.webhook_path, "/webhooks/tovuti/acme");
    let ids: Vec<String> = c.list().await.unwrap().into_iter().map(|v| v.id).collect();
    assert_eq!(ids, ["acme", "default"]);
    let stored = db.store.connection("acme").await.unwrap().unwrap();
    let token = db
        .store
        .load_credentials("acme", "tovuti_api_token")
        .await
        .unwrap()
        .unwrap();
    assert_eq!(token.secret.expose_secret(), TOVUTI_TOKEN);

    let patch = ConnectionPatch {
        name: Some(String::new()),
        tovuti_token: Some(SecretString::from("tovuti-second-token")),
        mapping_path: Some(VALID_MAPPING.into()),
        poller: Some(PollerOverrides {
            users_interval_secs: Some(60),
            ..Default::default()
        }),
        ..Default::default()
    };
    let changed = c.update("acme", patch).await.unwrap();

    assert_eq!(changed.name, None, "an empty name clears it");
    assert_eq!(changed.mapping_path.as_deref(), Some(VALID_MAPPING));
    assert_eq!(changed.poller.users_interval_secs, Some(60));
    assert_ne!(
        changed.tovuti.token, created.tovuti.token,
        "a new fingerprint"
    );
    assert_eq!(changed.ghl.token, created.ghl.token, "untouched");
    let after = db.store.connection("acme").await.unwrap().unwrap();
    assert!(
        after.updated_at > stored.updated_at,
        "runtime caches see the change"
    );
}

pub async fn invalid_input_and_conflicts_are_refused(db: &TestDb) {
    let c = connections(db);
    for id in ["Acme", "-acme", "a_b", "", &"a".repeat(64)] {
        is_invalid(c.create(input(id, "loc-x")).await, "id");
    }
    let mut ftp = input("acme", "loc-acme");
    ftp.tovuti_base_url = Some("ftp://tenant.example.com".into());
    is_invalid(c.create(ftp).await, "tovuti_base_url");
    let mut missing = input("acme", "loc-acme");
    missing.mapping_path = Some("/nonexistent/mapping.toml".into());
    is_unusable(c.create(missing).await, "mapping_path");
    let mut broken = input("acme", "loc-acme");
    broken.mapping_path = Some(BROKEN_MAPPING.into());
    is_unusable(c.create(broken).await, "mapping_path");
    let mut empty_token = input("acme", "loc-acme");
    empty_token.tovuti_token = Some(SecretString::from(" "));
    is_invalid(c.create(empty_token).await, "tovuti_token");
    assert!(
        db.store.connection("acme").await.unwrap().is_none(),
        "nothing is stored from invalid input"
    );

    c.create(input("acme", "loc-acme")).await.unwrap();
    let same_id = c.create(input("acme", "loc-other")).await;
    assert!(
        matches!(same_id, Err(ConnectionError::Conflict(_))),
        "{same_id:?}"
    );
    let same_location = c.create(input("beta", "loc-acme")).await;
    assert!(
        matches!(same_location, Err(ConnectionError::Conflict(_))),
        "{same_location:?}"
    );
    c.create(input("beta", "loc-beta")).await.unwrap();
    let moved = ConnectionPatch {
        ghl_location_id: Some("loc-acme".into()),
        ..Default::default()
    };
    assert!(matches!(
        c.update("beta", moved).await,
        Err(ConnectionError::Conflict(_))
    ));
    let unknown = c.pause("nobody").await;
    assert!(
        matches!(unknown, Err(ConnectionError::NotFound(_))),
        "{unknown:?}"
    );
}

pub async fn the_default_connection_is_read_only(db: &TestDb) {
    let c = connections(db);

    let default = c.get("default").await.unwrap();

    assert!(default.read_only);
    assert_eq!(default.ghl.location_id.as_deref(), Some("loc-default"));
    assert!(default.ghl.token.set);
    let read_only = |r: Result<_, ConnectionError>| matches!(r, Err(ConnectionError::ReadOnly));
    assert!(read_only(
        c.create(input("default", "loc-new")).await.map(|_| ())
    ));
    assert!(read_only(
        c.update("default", ConnectionPatch::default())
            .await
            .map(|_| ())
    ));
    assert!(read_only(c.pause("default").await.map(|_| ())));
    assert!(read_only(c.remove("default").await.map(|_| ())));
    assert!(read_only(
        c.add_tovuti_secret("default", None).await.map(|_| ())
    ));
}

pub async fn views_never_carry_secrets(db: &TestDb) {
    let c = connections(db);
    c.create(input("acme", "loc-acme")).await.unwrap();
    let new = c.add_tovuti_secret("acme", None).await.unwrap();
    let secret = new.secret.expose_secret().to_owned();
    assert!(secret.starts_with("whsec_"));
    assert!(
        serde_json::to_string(&new).unwrap().contains(&secret),
        "shown once"
    );

    let shown = [
        serde_json::to_string(&c.list().await.unwrap()).unwrap(),
        serde_json::to_string(&c.get("acme").await.unwrap()).unwrap(),
        serde_json::to_string(&c.get("default").await.unwrap()).unwrap(),
        serde_json::to_string(&c.tovuti_secrets("acme").await.unwrap()).unwrap(),
        format!("{:?}", c.get("acme").await.unwrap()),
    ];

    let encoded = secret.trim_start_matches("whsec_");
    for text in shown {
        for planted in [GHL_TOKEN, TOVUTI_TOKEN, "pit-default-planted-31aa", encoded] {
            assert!(!text.contains(planted), "a secret in a view: {text}");
        }
        assert!(!text.contains("whsec_"), "{text}");
    }
}

pub async fn secrets_rotate_with_overlap_and_revoke_at_once(db: &TestDb) {
    let c = connections(db);
    c.create(input("acme", "loc-acme")).await.unwrap();
    let hour = Duration::from_secs(3600);
    let old = c.add_tovuti_secret_at("acme", None, T0).await.unwrap();
    let t1 = T0.plus(hour * 48);

    let new = c
        .add_tovuti_secret_at("acme", Some(hour), t1)
        .await
        .unwrap();

    let live = |at: Millis| async move {
        let live = live_secrets(db.store.as_ref(), "acme", at).await.unwrap();
        let texts: Vec<String> = live
            .secrets
            .iter()
            .map(|s| s.expose_secret().to_owned())
            .collect();
        (texts, live.valid_until)
    };
    let (old_text, new_text) = (
        old.secret.expose_secret().to_owned(),
        new.secret.expose_secret().to_owned(),
    );
    assert_eq!(
        live(t1.plus(hour / 2)).await,
        (vec![old_text, new_text.clone()], Some(t1.plus(hour))),
        "both verify during the overlap, until the old one expires"
    );
    assert_eq!(live(t1.plus(hour)).await, (vec![new_text.clone()], None));
    let listed = c.tovuti_secrets("acme").await.unwrap();
    assert_eq!(listed.len(), 2);
    assert_eq!(listed[0].expires_at, Some(t1.plus(hour)));
    assert_eq!(listed[1].expires_at, None);

    c.revoke_tovuti_secret("acme", &old.view.id).await.unwrap();
    assert_eq!(live(t1).await.0, vec![new_text], "revoked at once");
    let again = c.revoke_tovuti_secret("acme", &old.view.id).await;
    assert!(
        matches!(again, Err(ConnectionError::NotFound(_))),
        "{again:?}"
    );
}

pub async fn pause_resume_and_remove_change_the_connection(db: &TestDb) {
    let c = connections(db);
    c.create(input("acme", "loc-acme")).await.unwrap();
    c.add_tovuti_secret("acme", None).await.unwrap();

    assert_eq!(c.pause("acme").await.unwrap().status, "paused");
    assert!(
        db.store
            .connection("acme")
            .await
            .unwrap()
            .unwrap()
            .paused_at
            .is_some()
    );
    assert_eq!(c.resume("acme").await.unwrap().status, "active");

    let removed = c.remove("acme").await.unwrap();

    assert_eq!(removed.status, "disconnected");
    assert!(!removed.ghl.token.set && !removed.tovuti.token.set);
    assert_eq!(removed.tovuti.webhook_secrets, 0);
    let stored = db.store.connection("acme").await.unwrap().unwrap();
    assert_eq!(stored.status, ConnectionStatus::Disconnected);
    assert!(
        db.raw_credential_bytes().await.is_empty(),
        "every credential erased"
    );
    assert!(db.store.webhook_secrets("acme").await.unwrap().is_empty());
    assert!(matches!(
        c.pause("acme").await,
        Err(ConnectionError::Invalid(_))
    ));
}

pub async fn tokens_are_refused_without_an_encryption_key(db: &TestDb) {
    let mut config = (*config()).clone();
    config.security.encryption_key = OptionalSecret::default();
    let c = Connections::new(db.store.clone(), Arc::new(config));

    let refused = c.create(input("acme", "loc-acme")).await;

    let text = format!("{}", refused.unwrap_err());
    assert!(text.contains("BRIDGE_ENCRYPTION_KEY"), "{text}");
    assert!(db.store.connection("acme").await.unwrap().is_none());
}
