//! The connection page's sample contact round trip against the fake GHL and Tovuti, and
//! the time filters of the audit and events pages.

use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
use tovuti_ghl_bridge::sandbox::tovuti::FakeTovuti;
use tovuti_ghl_bridge::store::{Cipher, Millis, NewAuditEntry};

use crate::admin_support::{AdminApp, FULL, READ, seed};
use crate::console_support::{csrf, form, page, sign_in};

const TOVUTI_TOKEN: &str = "5|console-sample-tovuti-token";
const SAMPLE_BUTTON: &str = "Run a sample contact round trip";

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_sample_round_trip_shows_each_field_sent_and_read_back_and_cleans_up() {
    let ghl = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let tovuti = FakeTovuti::start(TOVUTI_TOKEN).await.unwrap();
    tovuti.insert_example_catalog();
    let ghl_url = ghl.base_url();
    let app = AdminApp::sqlite_with(|config: &mut Config| {
        config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
        config.ghl.base_url = ghl_url;
    })
    .await;
    let body = serde_json::json!({
        "id": "acme",
        "ghl_location_id": "loc-1",
        "ghl_token": ghl.issue_token("loc-1", ALL_SCOPES),
        "tovuti_base_url": tovuti.base_url(),
        "tovuti_token": TOVUTI_TOKEN,
    });
    let created = app.post("/api/v1/connections", FULL, body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let cookie = sign_in(&app, FULL).await;
    let shown = app.send(page("/console/connections/acme", &cookie)).await;
    assert!(shown.text.contains(SAMPLE_BUTTON), "{}", shown.text);

    let ran = app
        .send(form(
            "/console/connections/acme/sample",
            Some(&cookie),
            &format!("csrf={}", csrf(&shown)),
        ))
        .await;

    assert_eq!(ran.status, 200, "{}", ran.text);
    let text = ran.text.replace("&#x2b;", "+");
    assert!(
        text.contains("Sample contact round trip: every field round-trips"),
        "{text}"
    );
    for expected in [
        "GHL test contact: ok",
        "Tovuti test user: ok",
        "firstName",
        "+14155550123",
        "tovuti field Company",
    ] {
        assert!(text.contains(expected), "{expected} missing: {text}");
    }
    assert!(!text.contains(">mismatch<"), "{text}");
    assert!(ghl.contacts().is_empty(), "the test contact was deleted");
    let users = tovuti.users();
    assert_eq!(users.len(), 1);
    assert_eq!(users[0].status.as_deref(), Some("disabled"));
    let audit = app.get("/api/v1/audit", FULL).await;
    assert_eq!(audit.json["items"][0]["action"], "connection.sample");
    assert_eq!(audit.json["items"][0]["detail"]["passed"], true);

    // A read-only session sees no button, and a post of its own is refused.
    let reader = sign_in(&app, READ).await;
    let shown = app.send(page("/console/connections/acme", &reader)).await;
    assert!(!shown.text.contains(SAMPLE_BUTTON));
    let refused = app
        .send(form(
            "/console/connections/acme/sample",
            Some(&reader),
            &format!("csrf={}", csrf(&shown)),
        ))
        .await;
    assert_eq!(refused.status, 403);
    assert_eq!(tovuti.users().len(), 1, "nothing more was made");
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_configured_connections_page_shows_and_runs_the_sample_round_trip() {
    let ghl = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let token = ghl.issue_token("loc-1", ALL_SCOPES);
    let ghl_url = ghl.base_url();
    let app = AdminApp::sqlite_with(|config: &mut Config| {
        config.ghl.base_url = ghl_url;
        config.ghl.location_id = "loc-1".into();
        config.ghl.token = OptionalSecret::new(token);
    })
    .await;
    let cookie = sign_in(&app, FULL).await;

    // Its secrets live in the configuration: the page lists none rather than failing.
    let shown = app
        .send(page("/console/connections/default", &cookie))
        .await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(shown.text.contains(SAMPLE_BUTTON), "{}", shown.text);
    assert!(
        shown
            .text
            .contains("comes from the service's configuration")
    );

    let ran = app
        .send(form(
            "/console/connections/default/sample",
            Some(&cookie),
            &format!("csrf={}", csrf(&shown)),
        ))
        .await;
    assert_eq!(ran.status, 200, "{}", ran.text);
    assert!(ran.text.contains("every field round-trips"), "{}", ran.text);
    assert!(
        !ran.text.contains("Tovuti test user:"),
        "no Tovuti API configured"
    );
    assert!(ghl.contacts().is_empty());
    app.finish().await;
}

fn entry(action: &str, at: i64) -> NewAuditEntry {
    NewAuditEntry {
        at: Millis(at),
        token_id: "0badcafe".into(),
        action: action.into(),
        connection_id: Some("c1".into()),
        target: None,
        detail: serde_json::json!({}),
    }
}

#[tokio::test]
async fn the_audit_page_filters_by_a_time_range_typed_with_or_without_a_zone() {
    let app = AdminApp::sqlite().await;
    // 2023-11-14 at 22:00, 23:00 and 24:00 UTC.
    let ten_pm = 1_700_000_000_000 - 800_000;
    for (n, action) in ["at.ten", "at.eleven", "at.midnight"].iter().enumerate() {
        let at = ten_pm + 3_600_000 * n as i64;
        app.state
            .store
            .record_audit(&entry(action, at))
            .await
            .unwrap();
    }
    let cookie = sign_in(&app, FULL).await;

    // Without the script: a time without a zone, read as UTC, shown back as typed.
    let civil = app
        .send(page(
            "/console/audit?since=2023-11-14T22%3A30&until=2023-11-14T23%3A30",
            &cookie,
        ))
        .await;
    assert_eq!(civil.status, 200, "{}", civil.text);
    assert!(civil.text.contains("at.eleven"), "{}", civil.text);
    assert!(!civil.text.contains("at.ten") && !civil.text.contains("at.midnight"));
    assert!(
        civil.text.contains("value=\"2023-11-14T22:30\""),
        "{}",
        civil.text
    );
    assert!(civil.text.contains("data-instant=\"2023-11-14T22:30:00Z\""));

    // From the script: the viewer's local time as an instant with its offset.
    let zoned = app
        .send(page(
            "/console/audit?since=2023-11-15T00%3A30%3A00%2B02%3A00",
            &cookie,
        ))
        .await;
    assert!(zoned.text.contains("at.eleven") && zoned.text.contains("at.midnight"));
    assert!(!zoned.text.contains("at.ten"), "{}", zoned.text);

    let bad = app.send(page("/console/audit?until=soon", &cookie)).await;
    assert_eq!(bad.status, 400);
    assert!(bad.text.contains("RFC 3339"), "{}", bad.text);
    app.finish().await;
}

#[tokio::test]
async fn the_events_page_filters_by_receive_time() {
    let app = AdminApp::sqlite().await;
    let seeded = seed(&app).await;
    let cookie = sign_in(&app, FULL).await;
    let done = app.state.store.event(seeded.done).await.unwrap().unwrap();
    let at = jiff::Timestamp::from_millisecond(done.received_at.0).unwrap();
    let at = at.to_string().replace(':', "%3A");

    let since = app
        .send(page(&format!("/console/events?since={at}"), &cookie))
        .await;
    assert_eq!(since.status, 200, "{}", since.text);
    assert!(since.text.contains(&seeded.done.to_string()));
    assert!(!since.text.contains(&seeded.dead_ghl.to_string()));

    let until = app
        .send(page(&format!("/console/events?until={at}"), &cookie))
        .await;
    assert!(until.text.contains(&seeded.dead_ghl.to_string()));
    assert!(!until.text.contains(&seeded.done.to_string()));
    assert!(until.text.contains("id=\"f-until\""));
    app.finish().await;
}
