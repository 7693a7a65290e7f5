//! `POST /api/v1/connections/{id}/install-link` and the callback it leads to, against the
//! fake GHL's OAuth endpoints: the grant goes into the linked connection, or nowhere when
//! another sub-account granted it. On SQLite and PostgreSQL.

use axum::body::Body;
use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::platforms::ghl::client::CREDENTIAL_KIND;
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
use tovuti_ghl_bridge::store::Cipher;

use crate::admin_support::{AdminApp, Answer, FULL, READ, request};

fn configure(config: &mut Config, ghl_url: String) {
    config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
    config.ghl.base_url = ghl_url;
    config.ghl.client_id = "fake-client-id".into();
    config.ghl.client_secret = OptionalSecret::new("fake-client-secret");
    config.ghl.oauth_redirect_url = "http://bridge.test/oauth/ghl/callback".into();
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_an_install_link_saves_the_grant_into_its_connection_only() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let url = fake.base_url();
    let app = AdminApp::sqlite_with(|config| configure(config, url)).await;
    an_install_link_saves_the_grant_into_its_connection_only(&app, &fake).await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_an_install_link_saves_the_grant_into_its_connection_only() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let url = fake.base_url();
    let Some(app) = AdminApp::postgres_with(|config| configure(config, url)).await else {
        return;
    };
    an_install_link_saves_the_grant_into_its_connection_only(&app, &fake).await;
    app.finish().await;
}

/// A new install link for `id`; returns the state it carries.
async fn link(app: &AdminApp, id: &str) -> String {
    let made = app
        .post(
            &format!("/api/v1/connections/{id}/install-link"),
            FULL,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(made.status, 200, "{}", made.text);
    assert_eq!(made.json["connection_id"], id);
    assert!(made.json["expires_at"].as_str().is_some(), "{}", made.text);
    let url = url::Url::parse(made.json["url"].as_str().unwrap()).unwrap();
    assert_eq!(url.path(), "/v2/oauth/chooselocation");
    let query: std::collections::HashMap<_, _> = url.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], "fake-client-id");
    query["state"].clone()
}

/// GHL sending the browser back with a code for `location`, without any cookie.
async fn callback(app: &AdminApp, fake: &FakeGhl, location: &str, state: &str) -> Answer {
    let code = fake.authorization_code(location, ALL_SCOPES);
    let path = format!("/oauth/ghl/callback?code={code}&state={state}");
    app.send(request("GET", &path, None, Body::empty())).await
}

async fn has_grant(app: &AdminApp, id: &str) -> bool {
    let stored = app.state.store.load_credentials(id, CREDENTIAL_KIND).await;
    stored.unwrap().is_some()
}

async fn an_install_link_saves_the_grant_into_its_connection_only(app: &AdminApp, fake: &FakeGhl) {
    for (id, location) in [("acme", "loc-acme"), ("zenith", "loc-zenith")] {
        let body = serde_json::json!({ "id": id, "ghl_location_id": location });
        let created = app.post("/api/v1/connections", FULL, body).await;
        assert_eq!(created.status, 201, "{}", created.text);
    }
    let path = "/api/v1/connections/acme/install-link";
    let read_only = app.post(path, READ, serde_json::json!({})).await;
    read_only.assert_problem(403);
    app.post(
        "/api/v1/connections/nobody/install-link",
        FULL,
        serde_json::json!({}),
    )
    .await
    .assert_problem(404);

    // The sub-account that is acme's grants access: the tokens go into acme.
    let state = link(app, "acme").await;
    let done = callback(app, fake, "loc-acme", &state).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(has_grant(app, "acme").await);
    assert!(!has_grant(app, "zenith").await);
    // A link works once.
    callback(app, fake, "loc-acme", &state)
        .await
        .assert_problem(400);

    // Zenith's sub-account chosen on a link made for acme: nothing is saved anywhere.
    let state = link(app, "acme").await;
    let refused = callback(app, fake, "loc-zenith", &state).await;
    refused.assert_problem(409);
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("connection zenith's"),
        "{}",
        refused.text
    );
    assert!(!has_grant(app, "zenith").await);
    // A sub-account no connection syncs: refused too, naming the one to choose.
    let state = link(app, "acme").await;
    let refused = callback(app, fake, "loc-new", &state).await;
    refused.assert_problem(409);
    assert!(
        refused.json["detail"]
            .as_str()
            .unwrap()
            .contains("loc-acme"),
        "{}",
        refused.text
    );
    let stray = app
        .state
        .store
        .connection_for_location("loc-new")
        .await
        .unwrap();
    assert!(stray.is_none(), "no connection is made for it");

    let audit = app
        .get("/api/v1/audit?action=connection.install_link", READ)
        .await;
    assert_eq!(
        audit.json["items"].as_array().unwrap().len(),
        3,
        "{}",
        audit.text
    );
    assert!(!audit.text.contains(&state), "the link is not audited");
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_oauth_configured_an_install_link_is_refused_saying_what_to_set() {
    let app = AdminApp::sqlite().await;
    let body = serde_json::json!({ "id": "acme", "ghl_location_id": "loc-acme" });
    assert_eq!(
        app.post("/api/v1/connections", FULL, body).await.status,
        201
    );

    let refused = app
        .post(
            "/api/v1/connections/acme/install-link",
            FULL,
            serde_json::json!({}),
        )
        .await;

    refused.assert_problem(409);
    assert!(refused.text.contains("ghl.client_id"), "{}", refused.text);
    app.finish().await;
}
