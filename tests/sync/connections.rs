//! Connections made through the connection operations: each syncs its own Tovuti tenant
//! with its own GHL location; webhook secrets rotate with overlap and revoke at once; a
//! paused connection keeps its events until it is resumed.

use std::time::Duration;

use secrecy::{ExposeSecret as _, SecretString};
use serde_json::{Value, json};
use tovuti_ghl_bridge::connections::{ConnectionInput, Connections};
use tovuti_ghl_bridge::sandbox::ghl::ALL_SCOPES;
use tovuti_ghl_bridge::sandbox::tovuti::FakeTovuti;
use tovuti_ghl_bridge::store::{EventStatus, Millis, PollerOverrides};

use crate::support::{Backend, Env, tovuti_event};

/// A connection `id` for GHL location `loc-{id}` and a fresh fake tenant of its own,
/// with one webhook secret (returned).
async fn tenant(env: &Env, connections: &Connections, id: &str) -> (FakeTovuti, String) {
    let tovuti = create(env, connections, id).await;
    let secret = connections.add_tovuti_secret(id, None).await.unwrap();
    (tovuti, secret.secret.expose_secret().to_owned())
}

/// A connection `id` for GHL location `loc-{id}` and a fresh fake tenant of its own.
async fn create(env: &Env, connections: &Connections, id: &str) -> FakeTovuti {
    let token = format!("{id}|tenant-token");
    let tovuti = FakeTovuti::start(token.clone()).await.unwrap();
    tovuti.insert_example_catalog();
    let location = format!("loc-{id}");
    let input = ConnectionInput {
        id: id.into(),
        name: None,
        ghl_location_id: location.clone(),
        ghl_token: Some(SecretString::from(
            env.ghl.issue_token(&location, ALL_SCOPES),
        )),
        tovuti_base_url: Some(tovuti.base_url()),
        tovuti_token: Some(SecretString::from(token)),
        tovuti_auth_mode: Default::default(),
        mapping_path: None,
        poller: PollerOverrides::default(),
    };
    connections.create(input).await.unwrap();
    tovuti
}

/// An enrollment of `email` (user `user_id`), delivery id `id`.
fn enrollment(id: &str, user_id: u64, email: &str) -> Value {
    let mut body = tovuti_event("enrollment.created", id);
    body["data"]["user"] = json!({ "id": user_id, "name": "Learner Person", "email": email });
    body
}

/// The emails of the contacts the fake GHL holds in `location`.
fn emails_in(env: &Env, location: &str) -> Vec<String> {
    env.ghl
        .contacts()
        .iter()
        .filter(|c| c["locationId"] == location)
        .filter_map(|c| c["email"].as_str().map(str::to_owned))
        .collect()
}

pub async fn each_connection_syncs_its_own_tenant_to_its_own_location(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let connections = env.state.connections();
    let (tenant_a, secret_a) = tenant(&env, &connections, "acme").await;
    let (tenant_b, secret_b) = tenant(&env, &connections, "beta").await;

    let a = env
        .send_tovuti_to(
            "/webhooks/tovuti/acme",
            &secret_a,
            &enrollment("e-a", 501, "ann@example.com"),
        )
        .await;
    let b = env
        .send_tovuti_to(
            "/webhooks/tovuti/beta",
            &secret_b,
            &enrollment("e-b", 502, "bob@example.com"),
        )
        .await;
    let crossed = env
        .send_tovuti_to(
            "/webhooks/tovuti/beta",
            &secret_a,
            &enrollment("e-x", 503, "eve@example.com"),
        )
        .await;
    assert_eq!((a.status, b.status, crossed.status), (200, 200, 401));
    env.drain().await;

    assert_eq!(env.event(&a).await.status, EventStatus::Done);
    assert_eq!(env.event(&b).await.status, EventStatus::Done);
    assert_eq!(emails_in(&env, "loc-acme"), ["ann@example.com"]);
    assert_eq!(emails_in(&env, "loc-beta"), ["bob@example.com"]);
    let store = &env.state.store;
    assert!(
        store
            .ghl_contact_for_user("acme", "501")
            .await
            .unwrap()
            .is_some()
    );
    assert!(
        store
            .ghl_contact_for_user("beta", "501")
            .await
            .unwrap()
            .is_none()
    );
    assert!(
        store
            .ghl_contact_for_user("beta", "502")
            .await
            .unwrap()
            .is_some()
    );
    // Each tenant was read with its own token (the fakes refuse any other), and the
    // default connection's tenant was not asked anything for them.
    assert!(!tenant_a.requests().is_empty() && !tenant_b.requests().is_empty());
    assert!(
        env.tovuti.requests().is_empty(),
        "{:?}",
        env.tovuti.requests()
    );
    env.finish().await;
}

pub async fn a_connection_moved_to_another_tenant_syncs_with_the_new_one(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let connections = env.state.connections();
    let (old_tenant, secret) = tenant(&env, &connections, "acme").await;
    let first = enrollment("m-1", 501, "ann@example.com");
    let path = "/webhooks/tovuti/acme";
    assert_eq!(env.send_tovuti_to(path, &secret, &first).await.status, 200);
    env.drain().await;
    let asked_before = old_tenant.requests().len();
    assert!(asked_before > 0);
    let token = "acme|moved-token";
    let new_tenant = FakeTovuti::start(token).await.unwrap();
    new_tenant.insert_example_catalog();
    let moved = tovuti_ghl_bridge::connections::ConnectionPatch {
        tovuti_base_url: Some(new_tenant.base_url()),
        tovuti_token: Some(SecretString::from(token)),
        ..Default::default()
    };

    connections.update("acme", moved).await.unwrap();
    let second = enrollment("m-2", 502, "bob@example.com");
    let delivery = env.send_tovuti_to(path, &secret, &second).await;
    env.drain().await;

    assert_eq!(env.event(&delivery).await.status, EventStatus::Done);
    assert!(!new_tenant.requests().is_empty(), "the new tenant is read");
    assert_eq!(
        old_tenant.requests().len(),
        asked_before,
        "the old one no more"
    );
    env.finish().await;
}

pub async fn a_rotated_secret_overlaps_then_expires_and_a_revoke_is_at_once(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let connections = env.state.connections();
    let _tenant = create(&env, &connections, "acme").await;
    let minutes = |m: u64| Duration::from_secs(60 * m);
    let now = Millis::now();
    let ago = |d: Duration| Millis(now.0 - i64::try_from(d.as_millis()).unwrap());
    // Explicit instants: "old" was replaced two hours ago with a one-hour overlap, so it
    // has expired; "previous" was replaced ten minutes ago with the same overlap.
    let add = |at: Millis| connections.add_tovuti_secret_at("acme", Some(minutes(60)), at);
    let old = add(ago(minutes(180))).await.unwrap();
    let previous = add(ago(minutes(120))).await.unwrap();
    let new = add(ago(minutes(10))).await.unwrap();
    let send = |secret: SecretString, id: &'static str| {
        let env = &env;
        async move {
            let body = enrollment(id, 501, "ann@example.com");
            env.send_tovuti_to("/webhooks/tovuti/acme", secret.expose_secret(), &body)
                .await
                .status
        }
    };

    assert_eq!(send(old.secret.clone(), "r-1").await, 401, "expired");
    assert_eq!(
        send(previous.secret.clone(), "r-2").await,
        200,
        "overlapping"
    );
    assert_eq!(send(new.secret.clone(), "r-3").await, 200);

    connections
        .revoke_tovuti_secret("acme", &previous.view.id)
        .await
        .unwrap();

    assert_eq!(
        send(previous.secret.clone(), "r-4").await,
        401,
        "revoked at once"
    );
    assert_eq!(send(new.secret.clone(), "r-5").await, 200);
    env.finish().await;
}

pub async fn a_paused_connection_keeps_its_events_until_resumed(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let connections = env.state.connections();
    let (_a, secret_a) = tenant(&env, &connections, "acme").await;
    let (_b, secret_b) = tenant(&env, &connections, "beta").await;
    connections.pause("acme").await.unwrap();

    let a = env
        .send_tovuti_to(
            "/webhooks/tovuti/acme",
            &secret_a,
            &enrollment("p-a", 501, "ann@example.com"),
        )
        .await;
    let b = env
        .send_tovuti_to(
            "/webhooks/tovuti/beta",
            &secret_b,
            &enrollment("p-b", 502, "bob@example.com"),
        )
        .await;
    assert_eq!(
        (a.status, b.status),
        (200, 200),
        "a paused connection still takes webhooks"
    );
    env.drain().await;

    let waiting = env.event(&a).await;
    assert!(
        matches!(waiting.status, EventStatus::Pending | EventStatus::Retrying),
        "{waiting:?}"
    );
    assert!(
        waiting.next_attempt_at > Millis::now(),
        "it waits for the resume"
    );
    assert!(
        emails_in(&env, "loc-acme").is_empty(),
        "nothing sent while paused"
    );
    assert_eq!(
        emails_in(&env, "loc-beta"),
        ["bob@example.com"],
        "others unaffected"
    );

    connections.resume("acme").await.unwrap();
    env.drain().await;

    assert_eq!(env.event(&a).await.status, EventStatus::Done);
    assert_eq!(emails_in(&env, "loc-acme"), ["ann@example.com"]);
    env.finish().await;
}

pub async fn stored_connections_with_a_tovuti_api_are_polled_unless_switched_off(backend: Backend) {
    // Unthrottled, so a page in hand when a poller is stopped is fetched at once.
    let unthrottled =
        |c: &mut tovuti_ghl_bridge::config::Config| c.poller.requests_per_second = 0.0;
    let Some(env) = Env::start_with(backend, unthrottled).await else {
        return;
    };
    let connections = env.state.connections();
    let beta = create(&env, &connections, "beta").await;
    let off = tovuti_ghl_bridge::connections::ConnectionPatch {
        poller: Some(PollerOverrides {
            enabled: Some(false),
            ..Default::default()
        }),
        ..Default::default()
    };
    connections.update("beta", off).await.unwrap();
    let every = Duration::from_millis(50);
    let pollers = tovuti_ghl_bridge::poller::start_for_connections(&env.state, every);

    // Added while the pollers run: picked up by the next read of the list, then scanned
    // every second.
    let acme = create(&env, &connections, "acme").await;
    let every_second = tovuti_ghl_bridge::connections::ConnectionPatch {
        poller: Some(PollerOverrides {
            users_interval_secs: Some(1),
            progress_interval_secs: Some(1),
            awards_interval_secs: Some(1),
            ..Default::default()
        }),
        ..Default::default()
    };
    connections.update("acme", every_second).await.unwrap();

    let began = std::time::Instant::now();
    while env
        .state
        .store
        .poll_cursor("acme", "users")
        .await
        .unwrap()
        .is_none()
    {
        assert!(
            began.elapsed() < Duration::from_secs(30),
            "acme was never scanned"
        );
        tokio::time::sleep(every).await;
    }
    connections.remove("acme").await.unwrap();
    // A removed connection's poller stops (after the next read of the list and the page
    // in hand): over more than two of its intervals its tenant is asked nothing more.
    tokio::time::sleep(every * 10).await;
    let seen = acme.requests().len();
    tokio::time::sleep(Duration::from_millis(2500)).await;
    assert_eq!(
        acme.requests().len(),
        seen,
        "acme's poller kept running: {:?}",
        acme.requests()
    );
    env.state.shutdown.cancel();
    pollers.await.unwrap();
    assert!(seen > 0, "acme's own tenant was read");
    assert!(beta.requests().is_empty(), "{:?}", beta.requests());
    assert!(
        env.tovuti.requests().is_empty(),
        "{:?}",
        env.tovuti.requests()
    );
    env.finish().await;
}
