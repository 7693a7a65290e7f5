//! `GET /api/v1/connections/{id}/ghl-lane`: the lane the admin API's own GHL requests
//! went through (the process's one set of lanes), after answers and a 429 from the fake
//! GHL, on SQLite and PostgreSQL.

use std::time::Duration;

use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::sandbox::faults::Fault;
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
use tovuti_ghl_bridge::store::Cipher;

use crate::admin_support::{AdminApp, FULL, READ};

const LANE: &str = "/api/v1/connections/acme/ghl-lane";
const BY_EMAIL: &str = "/api/v1/connections/acme/links?email=sample@example.com";

/// The fake's URL, a key for tokens, and a client that gives up at once: a 429 fails
/// the call (after pausing the lane) instead of waiting it out.
fn configure(config: &mut Config, ghl_url: String) {
    config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
    config.ghl.base_url = ghl_url;
    config.ghl.retry_attempts = 1;
    config.ghl.rate_limited_waits = 0;
}

async fn ghl_with_a_contact() -> (FakeGhl, String) {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let token = fake.issue_token("loc-1", ALL_SCOPES);
    fake.add_contact(
        "loc-1",
        &serde_json::json!({ "email": "sample@example.com" }),
    );
    (fake, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn sqlite_lane_status_shows_requests_and_a_429s_pause() {
    let (fake, token) = ghl_with_a_contact().await;
    let url = fake.base_url();
    let app = AdminApp::sqlite_with(|config| configure(config, url)).await;
    lane_status_shows_requests_and_a_429s_pause(&app, &fake, &token, "only_replica").await;
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn postgres_lane_status_shows_requests_and_a_429s_pause() {
    let (fake, token) = ghl_with_a_contact().await;
    let url = fake.base_url();
    let Some(app) = AdminApp::postgres_with(|config| configure(config, url)).await else {
        return;
    };
    lane_status_shows_requests_and_a_429s_pause(&app, &fake, &token, "this_replica").await;
    app.finish().await;
}

async fn lane_status_shows_requests_and_a_429s_pause(
    app: &AdminApp,
    fake: &FakeGhl,
    token: &str,
    holder_after_use: &str,
) {
    let body = serde_json::json!({ "id": "acme", "ghl_location_id": "loc-1", "ghl_token": token });
    let created = app.post("/api/v1/connections", FULL, body).await;
    assert_eq!(created.status, 201, "{}", created.text);

    let idle = app.get(LANE, READ).await;
    assert_eq!(idle.status, 200, "{}", idle.text);
    assert_eq!(idle.json["location_id"], "loc-1");
    assert_eq!(idle.json["sent_in_window"], 0);
    assert_eq!(idle.json["reported"], serde_json::Value::Null);
    assert_eq!(idle.json["paused_until"], serde_json::Value::Null);
    assert_eq!(idle.json["quota"]["max_requests"], 100);

    // The admin API's lookup goes through the process's lane: the status shows it.
    let found = app.get(BY_EMAIL, READ).await;
    assert_eq!(found.status, 200, "{}", found.text);
    let used = app.get(LANE, READ).await;
    assert_eq!(used.json["sent_in_window"], 1, "{}", used.text);
    assert_eq!(used.json["holder"], holder_after_use, "{}", used.text);
    let daily = used.json["reported"]["daily_remaining"].as_u64();
    assert!(daily.is_some_and(|d| d > 0), "{}", used.text);
    assert!(!used.text.contains(token), "no token in the status");

    // A 429 with Retry-After pauses the lane for that long.
    fake.inject([Fault::RateLimited(Duration::from_secs(120))]);
    let refused = app.get(BY_EMAIL, READ).await;
    refused.assert_problem(503);
    let paused = app.get(LANE, READ).await;
    assert_eq!(paused.json["sent_in_window"], 2, "{}", paused.text);
    let until: jiff::Timestamp = paused.json["paused_until"]
        .as_str()
        .unwrap_or_else(|| panic!("not paused: {}", paused.text))
        .parse()
        .unwrap();
    let ahead = until.duration_since(jiff::Timestamp::now());
    assert!(
        ahead > jiff::SignedDuration::from_secs(100)
            && ahead <= jiff::SignedDuration::from_secs(120),
        "{ahead:?}"
    );

    app.get("/api/v1/connections/nobody/ghl-lane", READ)
        .await
        .assert_problem(404);
}
