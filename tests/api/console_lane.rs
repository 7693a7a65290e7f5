//! What the console shows of a connection's GHL lane and health: the overview's "GHL
//! quota used today" (from GHL's daily headers, as this replica last heard them), its
//! last poll and last check; the connection page's lane (quota, requests in the window,
//! daily use, a 429's pause, who holds it), read from the same view as
//! `GET /api/v1/connections/{id}/ghl-lane`.

use std::time::Duration;

use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::sandbox::faults::Fault;
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings, Limits};
use tovuti_ghl_bridge::store::Cipher;

use crate::admin_support::{AdminApp, Answer, FULL, READ};
use crate::console_support::{csrf, form, page, sign_in};

const LANE: &str = "/api/v1/connections/acme/ghl-lane";
const BY_EMAIL: &str = "/api/v1/connections/acme/links?email=sample@example.com";
const PAGE: &str = "/console/connections/acme";

/// A client that gives up at once on a 429 (after pausing the lane).
fn configure(config: &mut Config, ghl_url: String) {
    config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
    config.ghl.base_url = ghl_url;
    config.ghl.retry_attempts = 1;
    config.ghl.rate_limited_waits = 0;
}

/// The text of the element carrying `data-field="{field}"`, tags removed.
fn field(answer: &Answer, field: &str) -> String {
    let marker = format!("data-field=\"{field}\">");
    let start = answer
        .text
        .find(&marker)
        .unwrap_or_else(|| panic!("no {field} in {}", answer.text))
        + marker.len();
    let rest = &answer.text[start..];
    let inner = &rest[..rest.find("</td>").or_else(|| rest.find("</dd>")).unwrap()];
    let mut text = String::new();
    let mut in_tag = false;
    for c in inner.chars() {
        match c {
            '<' => in_tag = true,
            '>' => in_tag = false,
            c if !in_tag => text.push(c),
            _ => {}
        }
    }
    text
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_and_the_connection_page_show_the_ghl_lane_and_quota() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let token = fake.issue_token("loc-1", ALL_SCOPES);
    fake.add_contact(
        "loc-1",
        &serde_json::json!({ "email": "sample@example.com" }),
    );
    let url = fake.base_url();
    let app = AdminApp::sqlite_with(|config| configure(config, url)).await;
    let body = serde_json::json!({ "id": "acme", "ghl_location_id": "loc-1", "ghl_token": token });
    let created = app.post("/api/v1/connections", FULL, body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let cookie = sign_in(&app, READ).await;

    // Before GHL answered this replica, nothing is known of the day's quota.
    let overview = app.send(page("/console", &cookie)).await;
    assert_eq!(overview.status, 200, "{}", overview.text);
    assert_eq!(field(&overview, "quota"), "not known yet");
    assert!(overview.text.contains("not checked"), "{}", overview.text);
    assert!(overview.text.contains("GHL: Private Integration Token"));
    let shown = app.send(page(PAGE, &cookie)).await;
    assert_eq!(
        field(&shown, "daily"),
        "not known yet: GHL has not answered this replica"
    );
    assert_eq!(field(&shown, "sent"), "0");
    assert_eq!(field(&shown, "paused"), "no");
    assert_eq!(field(&shown, "holder"), "this replica, the only one");

    // A lookup goes through the process's lane: GHL's daily headers come back with it.
    assert_eq!(app.get(BY_EMAIL, READ).await.status, 200);
    let lane = app.get(LANE, READ).await;
    let limit = lane.json["reported"]["daily_limit"].as_u64().unwrap();
    let remaining = lane.json["reported"]["daily_remaining"].as_u64().unwrap();
    assert!(limit > remaining, "{}", lane.text);
    let used = format!("{} of {limit}", limit - remaining);
    let overview = app.send(page("/console", &cookie)).await;
    assert_eq!(field(&overview, "quota"), used);
    let shown = app.send(page(PAGE, &cookie)).await;
    assert_eq!(
        field(&shown, "daily"),
        format!("{used} ({remaining} remaining)")
    );
    assert_eq!(field(&shown, "sent"), "1");

    // A 429 pauses the lane; the page says until when.
    fake.inject([Fault::RateLimited(Duration::from_secs(120))]);
    app.get(BY_EMAIL, READ).await.assert_problem(503);
    let lane = app.get(LANE, READ).await;
    let until: jiff::Timestamp = lane.json["paused_until"].as_str().unwrap().parse().unwrap();
    let shown = app.send(page(PAGE, &cookie)).await;
    let paused = field(&shown, "paused");
    // Each view reckons the end from its own "now": the two agree within moments.
    let shown_until: jiff::Timestamp = paused
        .strip_prefix("until ")
        .and_then(|rest| rest.split(' ').next())
        .unwrap_or_else(|| panic!("not paused: {paused}"))
        .parse()
        .unwrap();
    let apart = shown_until.duration_since(until).abs();
    assert!(
        apart < jiff::SignedDuration::from_secs(2),
        "{paused} vs {until}"
    );
    assert_eq!(field(&shown, "sent"), "2");
    app.finish().await;
}

/// Two connections, each with a full token for its own location of `fake`.
async fn add_acme_and_zenith(app: &AdminApp, fake: &FakeGhl) {
    for (id, location) in [("acme", "loc-acme"), ("zenith", "loc-zenith")] {
        let token = fake.issue_token(location, ALL_SCOPES);
        let body = serde_json::json!({ "id": id, "ghl_location_id": location, "ghl_token": token });
        let created = app.post("/api/v1/connections", FULL, body).await;
        assert_eq!(created.status, 201, "{}", created.text);
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_overview_shows_the_last_check_and_puts_a_failed_one_first() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let url = fake.base_url();
    let app = AdminApp::sqlite_with(|config| configure(config, url)).await;
    // "zenith" sorts after "acme": only a problem can bring it first.
    add_acme_and_zenith(&app, &fake).await;
    let cookie = sign_in(&app, FULL).await;
    let before = app.send(page("/console", &cookie)).await;
    assert!(before.text.find("zenith") > before.text.find("acme"));

    // Zenith's token stops working; its check (from the console) finds problems.
    let patch = serde_json::json!({ "ghl_token": "pit-revoked-long-ago" });
    let patched = app.patch("/api/v1/connections/zenith", FULL, patch).await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let shown = app.send(page("/console/connections/zenith", &cookie)).await;
    let verify = "/console/connections/zenith/verify";
    let checked = app
        .send(form(
            verify,
            Some(&cookie),
            &format!("csrf={}", csrf(&shown)),
        ))
        .await;
    assert!(checked.text.contains("problems found"), "{}", checked.text);

    let after = app.send(page("/console", &cookie)).await;
    let zenith = after.text.find("/console/connections/zenith").unwrap();
    let acme = after.text.find("/console/connections/acme").unwrap();
    assert!(
        zenith < acme,
        "the failed check comes first: {}",
        after.text
    );
    let row = &after.text[zenith..acme];
    assert!(row.contains("problems found"), "{row}");
    assert!(after.text[acme..].contains("not checked"), "{}", after.text);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_spent_daily_quota_puts_its_connection_first() {
    // A location allowed one request a day: the lookup spends it.
    let settings = FakeSettings {
        limits: Limits {
            daily_max: 1,
            ..Limits::default()
        },
        ..FakeSettings::default()
    };
    let fake = FakeGhl::start(settings).await.unwrap();
    fake.add_contact(
        "loc-zenith",
        &serde_json::json!({ "email": "sample@example.com" }),
    );
    let url = fake.base_url();
    let app = AdminApp::sqlite_with(|config| configure(config, url)).await;
    add_acme_and_zenith(&app, &fake).await;
    let lookup = "/api/v1/connections/zenith/links?email=sample@example.com";
    assert_eq!(app.get(lookup, READ).await.status, 200);
    let cookie = sign_in(&app, READ).await;
    let overview = app.send(page("/console", &cookie)).await;
    assert_eq!(field(&overview, "quota"), "1 of 1");
    let zenith = overview.text.find("/console/connections/zenith").unwrap();
    let acme = overview.text.find("/console/connections/acme").unwrap();
    assert!(
        zenith < acme,
        "the spent quota comes first: {}",
        overview.text
    );
    let row_start = overview.text[..zenith].rfind("<tr").unwrap();
    assert!(
        overview.text[row_start..zenith].contains("attention"),
        "{}",
        overview.text
    );
    app.finish().await;
}
