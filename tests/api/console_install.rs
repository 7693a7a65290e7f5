//! Starting GHL's OAuth install from a connection's page: the form makes the same install
//! link as `POST /api/v1/connections/{id}/install-link` (audited alike) and sends the
//! browser to GHL's authorize page, whose origin the page's CSP lets the form reach; the
//! link's state then saves the grant into that connection. Full sessions only, with the
//! CSRF token; without OAuth configured the page says what is missing instead.

use axum::body::Body;
use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::platforms::ghl::client::CREDENTIAL_KIND;
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
use tovuti_ghl_bridge::store::Cipher;

use crate::admin_support::{AdminApp, FULL, READ, request};
use crate::console_support::{csrf, form, page, sign_in};

const PAGE: &str = "/console/connections/acme";
const POST: &str = "/console/connections/acme/install";
const BUTTON: &str = "Authorise in GHL (OAuth install)";

fn configure(config: &mut Config, ghl_url: String) {
    config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
    config.ghl.base_url = ghl_url;
    config.ghl.client_id = "fake-client-id".into();
    config.ghl.client_secret = OptionalSecret::new("fake-client-secret");
    config.ghl.oauth_redirect_url = "http://bridge.test/oauth/ghl/callback".into();
}

async fn with_acme(app: &AdminApp) {
    let body = serde_json::json!({ "id": "acme", "ghl_location_id": "loc-acme" });
    let created = app.post("/api/v1/connections", FULL, body).await;
    assert_eq!(created.status, 201, "{}", created.text);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_connection_page_starts_the_oauth_install_into_its_connection() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let url = fake.base_url();
    let app = AdminApp::sqlite_with(|config| configure(config, url)).await;
    with_acme(&app).await;
    let cookie = sign_in(&app, FULL).await;

    let shown = app.send(page(PAGE, &cookie)).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(shown.text.contains(BUTTON), "{}", shown.text);
    // The form's answer redirects to GHL: browsers hold that to `form-action`.
    let policy = shown.headers["content-security-policy"].to_str().unwrap();
    assert!(
        policy.contains("form-action 'self' https://marketplace.gohighlevel.com;"),
        "{policy}"
    );

    let forged = app.send(form(POST, Some(&cookie), "csrf=forged")).await;
    assert_eq!(forged.status, 403);

    let started = app
        .send(form(POST, Some(&cookie), &format!("csrf={}", csrf(&shown))))
        .await;
    assert_eq!(started.status, 303, "{}", started.text);
    let target = url::Url::parse(started.headers["location"].to_str().unwrap()).unwrap();
    assert_eq!(target.host_str(), Some("marketplace.gohighlevel.com"));
    assert_eq!(target.path(), "/v2/oauth/chooselocation");
    let query: std::collections::HashMap<_, _> = target.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], "fake-client-id");

    let audit = app.get("/api/v1/audit", FULL).await;
    let entry = &audit.json["items"][0];
    assert_eq!(entry["action"], "connection.install_link", "{entry}");
    assert_eq!(entry["connection"], "acme", "{entry}");
    assert!(entry["detail"]["expires_at"].is_string(), "{entry}");
    assert!(
        !audit.text.contains(&query["state"]),
        "the link is never audited"
    );

    // GHL sends the browser back with the link's state: the grant goes into acme.
    let code = fake.authorization_code("loc-acme", ALL_SCOPES);
    let path = format!("/oauth/ghl/callback?code={code}&state={}", query["state"]);
    let done = app.send(request("GET", &path, None, Body::empty())).await;
    assert_eq!(done.status, 200, "{}", done.text);
    let grant = app
        .state
        .store
        .load_credentials("acme", CREDENTIAL_KIND)
        .await;
    assert!(grant.unwrap().is_some());
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_session_cannot_start_an_install() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let url = fake.base_url();
    let app = AdminApp::sqlite_with(|config| configure(config, url)).await;
    with_acme(&app).await;
    let reader = sign_in(&app, READ).await;
    let shown = app.send(page(PAGE, &reader)).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(!shown.text.contains(BUTTON), "{}", shown.text);
    let refused = app
        .send(form(POST, Some(&reader), &format!("csrf={}", csrf(&shown))))
        .await;
    assert_eq!(refused.status, 403);
    let audit = app
        .get("/api/v1/audit?action=connection.install_link", FULL)
        .await;
    assert_eq!(audit.json["items"], serde_json::json!([]), "{}", audit.text);
    app.finish().await;
}

#[tokio::test]
async fn without_oauth_configured_the_page_says_what_is_missing() {
    let app = AdminApp::sqlite().await;
    with_acme(&app).await;
    let cookie = sign_in(&app, FULL).await;
    let shown = app.send(page(PAGE, &cookie)).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(!shown.text.contains(BUTTON), "{}", shown.text);
    assert!(
        shown
            .text
            .contains("Installing from here needs OAuth configured"),
        "{}",
        shown.text
    );
    let policy = shown.headers["content-security-policy"].to_str().unwrap();
    assert!(policy.contains("form-action 'self';"), "{policy}");
    // Posted anyway, it is refused as the admin API refuses it, and nothing is audited.
    let refused = app
        .send(form(POST, Some(&cookie), &format!("csrf={}", csrf(&shown))))
        .await;
    assert_eq!(refused.status, 409, "{}", refused.text);
    assert!(
        refused.text.contains("OAuth is not configured"),
        "{}",
        refused.text
    );
    app.finish().await;
}
