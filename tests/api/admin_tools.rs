//! The admin API's tools for one connection: `check` against the fake GHL and Tovuti,
//! the link and history of one learner, the poller's status, and the mapping's
//! validation and preview — on SQLite (the check) and both backends (the rest).

use axum::body::Body;
use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
use tovuti_ghl_bridge::sandbox::tovuti::FakeTovuti;
use tovuti_ghl_bridge::store::{Cipher, EventStatus, Millis, NewEvent, Source};

use crate::admin_support::{AdminApp, FULL, READ, request};

const TOVUTI_TOKEN: &str = "5|admin-check-tovuti-token";

crate::admin_support::on_both_backends!(
    with = super::with_key;
    links_show_both_sides_their_last_writes_and_recent_events,
    poller_status_reads_the_stored_cursors,
);

fn with_key(config: &mut Config) {
    config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
}

async fn create(app: &AdminApp, body: serde_json::Value) {
    let created = app.post("/api/v1/connections", FULL, body).await;
    assert_eq!(created.status, 201, "{}", created.text);
}

async fn ghl_with_a_contact() -> (FakeGhl, String) {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let token = fake.issue_token("loc-1", ALL_SCOPES);
    let response = reqwest::Client::new()
        .post(format!("{}/contacts/", fake.base_url()))
        .bearer_auth(&token)
        .header("Version", "2021-07-28")
        .json(&serde_json::json!({ "locationId": "loc-1", "email": "sample@example.com" }))
        .send()
        .await
        .unwrap();
    assert!(response.status().is_success(), "{}", response.status());
    (fake, token)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn check_reports_each_capability_and_names_a_missing_scope() {
    let (ghl, token) = ghl_with_a_contact().await;
    let tovuti = FakeTovuti::start(TOVUTI_TOKEN).await.unwrap();
    tovuti.insert_example_catalog();
    let ghl_url = ghl.base_url();
    let app = AdminApp::sqlite_with(|config| {
        with_key(config);
        config.ghl.base_url = ghl_url;
    })
    .await;
    create(
        &app,
        serde_json::json!({
            "id": "acme",
            "ghl_location_id": "loc-1",
            "ghl_token": token,
            "tovuti_base_url": tovuti.base_url(),
            "tovuti_token": TOVUTI_TOKEN,
        }),
    )
    .await;
    let checked = app
        .post(
            "/api/v1/connections/acme/check",
            FULL,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(checked.status, 200, "{}", checked.text);
    assert_eq!(checked.json["passed"], true, "{}", checked.text);
    let capabilities = checked.json["ghl"]["capabilities"].as_array().unwrap();
    assert!(!capabilities.is_empty());
    assert!(
        capabilities.iter().all(|c| c["outcome"] == "ok"),
        "{}",
        checked.text
    );
    assert_eq!(checked.json["tovuti"]["passed"], true, "{}", checked.text);
    assert!(
        !checked.text.contains("sample@example.com"),
        "no personal data in a check"
    );
    assert!(!checked.text.contains(&token) && !checked.text.contains(TOVUTI_TOKEN));

    // A token without write access to contacts: the capability says which scope.
    let read_only = ghl.issue_token("loc-1", &["contacts.readonly"]);
    let patched = app
        .patch(
            "/api/v1/connections/acme",
            FULL,
            serde_json::json!({ "ghl_token": read_only }),
        )
        .await;
    assert_eq!(patched.status, 200, "{}", patched.text);
    let checked = app
        .post(
            "/api/v1/connections/acme/check",
            FULL,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(checked.json["passed"], false, "{}", checked.text);
    let forbidden: Vec<&serde_json::Value> = checked.json["ghl"]["capabilities"]
        .as_array()
        .unwrap()
        .iter()
        .filter(|c| c["outcome"] == "forbidden")
        .collect();
    assert!(
        forbidden
            .iter()
            .any(|c| c["detail"] == "forbidden (missing scope contacts.write)"),
        "{}",
        checked.text
    );
    let audit = app.get("/api/v1/audit?action=connection.check", READ).await;
    assert_eq!(
        audit.json["items"].as_array().unwrap().len(),
        2,
        "{}",
        audit.text
    );
    app.post(
        "/api/v1/connections/nobody/check",
        FULL,
        serde_json::json!({}),
    )
    .await
    .assert_problem(404);
    app.finish().await;
}

fn event(source: Source, entity: &str, external: &str, at: i64) -> NewEvent {
    NewEvent {
        source,
        connection_id: Some("acme".to_owned()),
        external_id: external.to_owned(),
        event_type: if source == Source::Tovuti {
            "user.updated"
        } else {
            "ContactUpdate"
        }
        .to_owned(),
        entity_key: Some(entity.to_owned()),
        headers: serde_json::json!({}),
        body: bytes::Bytes::from_static(b"{}"),
        status: EventStatus::Pending,
        note: None,
        received_at: Millis(at),
    }
}

async fn links_show_both_sides_their_last_writes_and_recent_events(app: &AdminApp) {
    create(
        app,
        serde_json::json!({ "id": "acme", "ghl_location_id": "loc-acme" }),
    )
    .await;
    let store = &app.state.store;
    store
        .link_identity("acme", "42", "contact-ada")
        .await
        .unwrap();
    let from_tovuti = store
        .record_event(event(Source::Tovuti, "tovuti:user:42", "t-1", 1_000))
        .await
        .unwrap();
    let from_ghl = store
        .record_event(event(Source::Ghl, "ghl:contact:contact-ada", "g-1", 2_000))
        .await
        .unwrap();
    store
        .record_event(event(Source::Tovuti, "tovuti:user:77", "t-other", 3_000))
        .await
        .unwrap();
    let _ = (from_tovuti, from_ghl);

    for query in ["tovuti_user=42", "ghl_contact=contact-ada"] {
        let link = app
            .get(&format!("/api/v1/connections/acme/links?{query}"), READ)
            .await;
        assert_eq!(link.status, 200, "{}", link.text);
        assert_eq!(link.json["tovuti_user"], "42");
        assert_eq!(link.json["ghl_contact"], "contact-ada");
        assert_eq!(link.json["linked"], true);
        let types: Vec<&str> = link.json["events"]
            .as_array()
            .unwrap()
            .iter()
            .map(|e| e["type"].as_str().unwrap())
            .collect();
        assert_eq!(
            types,
            ["ContactUpdate", "user.updated"],
            "newest first, this learner only"
        );
        assert!(link.json["last_to_ghl"].is_null(), "nothing finished yet");
    }
    let unlinked = app
        .get("/api/v1/connections/acme/links?tovuti_user=77", READ)
        .await;
    assert_eq!(unlinked.json["linked"], false);
    assert!(unlinked.json["ghl_contact"].is_null());
    app.get("/api/v1/connections/acme/links", READ)
        .await
        .assert_problem(400);
    app.get(
        "/api/v1/connections/acme/links?tovuti_user=1&ghl_contact=2",
        READ,
    )
    .await
    .assert_problem(400);
    app.get("/api/v1/connections/nobody/links?tovuti_user=1", READ)
        .await
        .assert_problem(404);
}

async fn poller_status_reads_the_stored_cursors(app: &AdminApp) {
    create(
        app,
        serde_json::json!({
            "id": "acme",
            "ghl_location_id": "loc-acme",
            "poller": { "users_interval_secs": 900, "requests_per_second": 0.5 },
        }),
    )
    .await;
    let now = Millis::now().0;
    let cursor = serde_json::json!({
        "scan_started_at": null,
        "next_page": 1,
        "last_completed_start": now - 60_000,
    });
    app.state
        .store
        .save_poll_cursor("acme", "users", &cursor.to_string())
        .await
        .unwrap();
    let status = app.get("/api/v1/connections/acme/poller", READ).await;
    assert_eq!(status.status, 200, "{}", status.text);
    let items = status.json["items"].as_array().unwrap();
    let resources: Vec<&str> = items
        .iter()
        .map(|i| i["resource"].as_str().unwrap())
        .collect();
    assert_eq!(resources, ["users", "progress", "awards"]);
    let users = &items[0];
    assert_eq!(
        users["interval_secs"], 900,
        "the connection's override applies"
    );
    assert_eq!(users["scanning"], false);
    let lag = users["lag_secs"].as_i64().unwrap();
    assert!((60..120).contains(&lag), "{lag}");
    assert!(users["next_due_at"].is_string());
    assert!(
        items[1]["last_completed_at"].is_null(),
        "progress never scanned"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_mapping_document_is_validated_with_its_problems_by_line() {
    let app = AdminApp::sqlite().await;
    let example = include_str!("../../config/mapping.example.toml");
    let valid = app
        .send(request(
            "POST",
            "/api/v1/mapping/validate",
            Some(FULL),
            Body::from(example),
        ))
        .await;
    assert_eq!(valid.status, 200, "{}", valid.text);
    assert_eq!(valid.json["valid"], true, "{}", valid.text);
    assert!(valid.json["field_pairs"].as_u64().unwrap() > 0);

    let broken = include_str!("../fixtures/mapping/broken.toml");
    let invalid = app
        .send(request(
            "POST",
            "/api/v1/mapping/validate",
            Some(FULL),
            Body::from(broken),
        ))
        .await;
    assert_eq!(invalid.status, 200, "{}", invalid.text);
    assert_eq!(invalid.json["valid"], false);
    let problems = invalid.json["problems"].as_array().unwrap();
    assert!(!problems.is_empty());
    assert!(
        problems.iter().all(|p| p["line"].as_u64().unwrap() > 0),
        "{}",
        invalid.text
    );
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_sample_event_is_previewed_through_the_connections_mapping() {
    let app = AdminApp::sqlite_with(with_key).await;
    create(
        &app,
        serde_json::json!({ "id": "acme", "ghl_location_id": "loc-acme" }),
    )
    .await;
    let sample: serde_json::Value =
        serde_json::from_str(include_str!("../fixtures/tovuti/user.created.json")).unwrap();
    let plan = app
        .post("/api/v1/connections/acme/preview", FULL, sample)
        .await;
    assert_eq!(plan.status, 200, "{}", plan.text);
    assert_eq!(plan.json["understood"], true, "{}", plan.text);
    assert_eq!(plan.json["plan"]["event_type"], "user.created");
    let actions = plan.json["plan"]["actions"].as_array().unwrap();
    assert!(
        actions.iter().any(|a| a["action"] == "upsert_contact"),
        "{}",
        plan.text
    );
    // A sample that is not an event is answered with the reason, not planned.
    let odd = app
        .post(
            "/api/v1/connections/acme/preview",
            FULL,
            serde_json::json!({ "type": "user.created" }),
        )
        .await;
    assert_eq!(odd.status, 200, "{}", odd.text);
    assert_eq!(odd.json["understood"], false);
    assert!(
        odd.json["reason"]
            .as_str()
            .unwrap()
            .contains("not a Tovuti event"),
        "{}",
        odd.text
    );
    assert!(odd.json["plan"].is_null());
    let events = app.get("/api/v1/events", READ).await;
    assert_eq!(
        events.json["items"].as_array().unwrap().len(),
        0,
        "a preview stores nothing"
    );
    app.finish().await;
}
