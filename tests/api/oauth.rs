//! GHL's OAuth install through the real service, against the fake GHL.

use secrecy::ExposeSecret as _;
use tovuti_ghl_bridge::config::OptionalSecret;
use tovuti_ghl_bridge::platforms::ghl::client::CREDENTIAL_KIND;
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
use tovuti_ghl_bridge::store::{self, Cipher};
use tovuti_ghl_bridge::telemetry::capture::Captured;

use crate::helpers::{TestApp, spawn_app, spawn_app_with};

async fn app_with_oauth(
    fake: &FakeGhl,
    key: &str,
) -> (TestApp, tovuti_ghl_bridge::config::StoreConfig) {
    let mut store = None;
    let app = spawn_app_with(|config| {
        config.ghl.base_url = fake.base_url();
        config.ghl.client_id = "fake-client-id".into();
        config.ghl.client_secret = OptionalSecret::new("fake-client-secret");
        config.ghl.oauth_redirect_url = "http://bridge.test/oauth/ghl/callback".into();
        config.security.encryption_key = OptionalSecret::new(key);
        store = Some(config.store.clone());
    })
    .await;
    (app, store.unwrap())
}

fn no_redirects() -> reqwest::Client {
    reqwest::Client::builder()
        .redirect(reqwest::redirect::Policy::none())
        .build()
        .unwrap()
}

/// Starts an install; returns the state GHL would echo and the cookie to send back.
async fn start_install(app: &TestApp) -> (String, String) {
    let response = no_redirects()
        .get(app.url("/oauth/ghl/install"))
        .send()
        .await
        .unwrap();
    assert_eq!(response.status(), 303);
    let location = url::Url::parse(response.headers()["location"].to_str().unwrap()).unwrap();
    assert_eq!(location.path(), "/v2/oauth/chooselocation");
    let query: std::collections::HashMap<_, _> = location.query_pairs().into_owned().collect();
    assert_eq!(query["client_id"], "fake-client-id");
    assert!(query["scope"].contains("contacts.write"));
    let cookie = response.headers()["set-cookie"].to_str().unwrap();
    let cookie = cookie.split(';').next().unwrap().to_owned();
    (query["state"].clone(), cookie)
}

#[tokio::test]
async fn an_install_exchanges_the_code_and_stores_the_tokens_encrypted() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let key = Cipher::generate_key();
    let (app, store_config) = app_with_oauth(&fake, &key).await;
    let (state, cookie) = start_install(&app).await;
    let code = fake.authorization_code("loc-9", ALL_SCOPES);

    let url = app.url(&format!("/oauth/ghl/callback?code={code}&state={state}"));
    let response = app
        .client
        .get(url)
        .header("cookie", cookie)
        .send()
        .await
        .unwrap();

    assert_eq!(response.status(), 200);
    assert_eq!(fake.token_endpoint_calls(), 1);
    let store = store::connect(&store_config, Some(Cipher::from_base64(&key).unwrap()))
        .await
        .unwrap();
    let connection = store
        .connection_for_location("loc-9")
        .await
        .unwrap()
        .unwrap();
    let stored = store
        .load_credentials(&connection.id, CREDENTIAL_KIND)
        .await
        .unwrap()
        .unwrap();
    assert!(stored.secret.expose_secret().contains("fake-refresh-"));
    assert_eq!(stored.metadata["userType"], "Location");
    assert!(
        stored.metadata["scope"]
            .as_str()
            .unwrap()
            .contains("contacts.write")
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn a_callback_without_this_browsers_state_is_refused_and_exchanges_nothing() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let (app, _) = app_with_oauth(&fake, &Cipher::generate_key()).await;
    let (state, _) = start_install(&app).await;
    let code = fake.authorization_code("loc-9", ALL_SCOPES);

    let url = app.url(&format!("/oauth/ghl/callback?code={code}&state={state}"));
    let response = app
        .client
        .get(url)
        .header("cookie", "ghl_oauth_state=someone-else")
        .send()
        .await
        .unwrap();

    crate::helpers::assert_problem(response, 400).await;
    assert_eq!(fake.token_endpoint_calls(), 0);
    app.stop().await.unwrap();
}

async fn callback(app: &TestApp, code: &str, state: &str, cookie: &str) -> reqwest::Response {
    let url = app.url(&format!("/oauth/ghl/callback?code={code}&state={state}"));
    let request = app.client.get(url).header("cookie", cookie);
    request.send().await.unwrap()
}

#[tokio::test]
async fn a_state_connects_one_location_and_its_second_use_is_refused() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let key = Cipher::generate_key();
    let (app, store_config) = app_with_oauth(&fake, &key).await;
    let (state, cookie) = start_install(&app).await;

    let code = fake.authorization_code("loc-9", ALL_SCOPES);
    let first = callback(&app, &code, &state, &cookie).await;
    assert_eq!(first.status(), 200);
    let cleared = first.headers()["set-cookie"].to_str().unwrap();
    assert!(cleared.starts_with("ghl_oauth_state=;"), "{cleared}");
    assert!(cleared.contains("Max-Age=0"), "{cleared}");

    // The same state and cookie, replayed with a fresh code for another location.
    let code = fake.authorization_code("loc-7", ALL_SCOPES);
    let again = callback(&app, &code, &state, &cookie).await;
    assert!(
        again.headers()["set-cookie"]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    crate::helpers::assert_problem(again, 400).await;
    assert_eq!(
        fake.token_endpoint_calls(),
        1,
        "the second code is never spent"
    );
    let store = store::connect(&store_config, Some(Cipher::from_base64(&key).unwrap()))
        .await
        .unwrap();
    assert!(
        store
            .connection_for_location("loc-7")
            .await
            .unwrap()
            .is_none()
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn without_an_encryption_key_the_callback_refuses_before_spending_the_code() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let key = Cipher::generate_key();
    let (keyed, _) = app_with_oauth(&fake, &key).await;
    let (state, cookie) = start_install(&keyed).await;
    keyed.stop().await.unwrap();
    let (app, _) = app_with_oauth(&fake, "").await;

    let code = fake.authorization_code("loc-9", ALL_SCOPES);
    crate::helpers::assert_problem(callback(&app, &code, &state, &cookie).await, 503).await;
    assert_eq!(fake.token_endpoint_calls(), 0);
    app.stop().await.unwrap();
}

#[tokio::test]
async fn anonymous_hits_while_oauth_is_not_configured_log_no_error() {
    let (logs, _guard) = Captured::start();
    let app = spawn_app().await;

    for path in ["/oauth/ghl/install", "/oauth/ghl/callback?code=c&state=s"] {
        crate::helpers::assert_problem(app.get(path).await, 503).await;
    }
    app.stop().await.unwrap();

    assert!(logs.at("ERROR").is_empty(), "{:?}", logs.at("ERROR"));
    let failed: Vec<_> = logs
        .lines()
        .into_iter()
        .filter(|l| l["message"] == "response failed")
        .collect();
    assert!(failed.iter().all(|l| l["level"] == "WARN"), "{failed:?}");
}
