//! The admin API's connection surface over the real router, on SQLite and PostgreSQL:
//! create, read, change, pause, resume and remove; the audit each change leaves; and no
//! token ever coming back out. Webhook secrets are in `admin_secrets`.

use axum::body::Body;
use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::store::Cipher;

use crate::admin_support::{AdminApp, FULL, READ};

/// Tokens planted in requests; no answer or audit entry may carry them.
const GHL_TOKEN: &str = "pit-planted-ghl-token-0123456789";
const TOVUTI_TOKEN: &str = "7|planted-tovuti-api-token";

crate::admin_support::on_both_backends!(
    with = super::with_key;
    a_connection_is_created_read_changed_and_removed_with_an_audit_of_each,
    invalid_duplicate_and_default_changes_are_refused_with_problems,
    a_read_only_token_reads_connections_but_changes_none,
    pause_and_resume_answer_with_the_new_status,
);

/// Credentials can only be stored with an encryption key.
pub(crate) fn with_key(config: &mut Config) {
    config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
}

pub(crate) fn acme() -> serde_json::Value {
    serde_json::json!({
        "id": "acme",
        "name": "Acme Academy",
        "ghl_location_id": "loc-acme",
        "ghl_token": GHL_TOKEN,
        "tovuti_base_url": "https://acme.tovuti.example/api",
        "tovuti_token": TOVUTI_TOKEN,
    })
}

pub(crate) fn assert_no_planted_token(text: &str) {
    assert!(!text.contains(GHL_TOKEN), "the GHL token leaked: {text}");
    assert!(
        !text.contains(TOVUTI_TOKEN),
        "the Tovuti token leaked: {text}"
    );
}

pub(crate) async fn audit_actions(app: &AdminApp) -> Vec<String> {
    let audit = app.get("/api/v1/audit?connection=acme", READ).await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    assert_no_planted_token(&audit.text);
    let mut actions: Vec<String> = audit.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["action"].as_str().unwrap().to_owned())
        .collect();
    actions.reverse();
    actions
}

async fn a_connection_is_created_read_changed_and_removed_with_an_audit_of_each(app: &AdminApp) {
    let created = app.post("/api/v1/connections", FULL, acme()).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.headers["location"], "/api/v1/connections/acme");
    assert_no_planted_token(&created.text);
    let view = &created.json;
    assert_eq!(view["status"], "active");
    assert_eq!(view["ghl"]["auth"], "private_token");
    assert_eq!(view["ghl"]["token"]["set"], true);
    assert_eq!(view["tovuti"]["token"]["set"], true);
    assert_eq!(view["tovuti"]["webhook_path"], "/webhooks/tovuti/acme");
    assert!(
        view["created_at"].as_str().unwrap().ends_with('Z'),
        "{view}"
    );

    let listed = app.get("/api/v1/connections", READ).await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert!(listed.ids().contains(&"acme".to_owned()), "{}", listed.text);
    assert!(listed.json["next"].is_null());

    let changed = app
        .patch(
            "/api/v1/connections/acme",
            FULL,
            serde_json::json!({ "name": "Acme", "tovuti_token": "7|rotated-tovuti-token" }),
        )
        .await;
    assert_eq!(changed.status, 200, "{}", changed.text);
    assert_eq!(changed.json["name"], "Acme");
    assert_ne!(
        changed.json["tovuti"]["token"]["fingerprint"], view["tovuti"]["token"]["fingerprint"],
        "a new token shows a new fingerprint"
    );
    assert!(!changed.text.contains("rotated-tovuti-token"));

    let shown = app.get("/api/v1/connections/acme", READ).await;
    assert_eq!(shown.json, changed.json);

    let removed = app.delete("/api/v1/connections/acme", FULL).await;
    assert_eq!(removed.status, 200, "{}", removed.text);
    assert_eq!(removed.json["status"], "disconnected");
    assert_eq!(removed.json["ghl"]["token"]["set"], false);
    assert_eq!(removed.json["tovuti"]["token"]["set"], false);

    // To the API a removed connection is gone; its id stays taken.
    app.get("/api/v1/connections/acme", READ)
        .await
        .assert_problem(404);
    app.get("/api/v1/connections/acme/poller", READ)
        .await
        .assert_problem(404);
    app.post(
        "/api/v1/connections/acme/pause",
        FULL,
        serde_json::json!({}),
    )
    .await
    .assert_problem(404);
    app.delete("/api/v1/connections/acme", FULL)
        .await
        .assert_problem(404);
    let listed = app.get("/api/v1/connections", READ).await;
    assert!(
        !listed.ids().contains(&"acme".to_owned()),
        "{}",
        listed.text
    );
    app.post("/api/v1/connections", FULL, acme())
        .await
        .assert_problem(409);

    assert_eq!(
        audit_actions(app).await,
        [
            "connection.create",
            "connection.update",
            "connection.remove"
        ]
    );
    let audit = app
        .get("/api/v1/audit?action=connection.update", READ)
        .await;
    let fields = &audit.json["items"][0]["detail"]["fields"];
    assert_eq!(fields, &serde_json::json!(["name", "tovuti_token"]));
    assert!(!audit.text.contains("rotated-tovuti-token"));
}

async fn invalid_duplicate_and_default_changes_are_refused_with_problems(app: &AdminApp) {
    let mut bad_id = acme();
    bad_id["id"] = "Not A Valid Id".into();
    app.post("/api/v1/connections", FULL, bad_id)
        .await
        .assert_problem(422);

    let mut bad_url = acme();
    bad_url["tovuti_base_url"] = "ftp://acme".into();
    app.post("/api/v1/connections", FULL, bad_url)
        .await
        .assert_problem(422);

    // A mapping file the service cannot use is a conflict with its disk, not a bad form.
    let mut no_mapping = acme();
    no_mapping["mapping_path"] = "/nonexistent/mapping.toml".into();
    app.post("/api/v1/connections", FULL, no_mapping)
        .await
        .assert_problem(409);

    // JSON's whole numbers may be written with a fraction of zero.
    let mut whole = acme();
    whole["id"] = "whole".into();
    whole["ghl_location_id"] = "loc-whole".into();
    whole["poller"] = serde_json::json!({ "users_interval_secs": 900.0 });
    let created = app.post("/api/v1/connections", FULL, whole).await;
    assert_eq!(created.status, 201, "{}", created.text);
    assert_eq!(created.json["poller"]["users_interval_secs"], 900);

    let mut unknown = acme();
    unknown["colour"] = "blue".into();
    let answer = app.post("/api/v1/connections", FULL, unknown).await;
    answer.assert_problem(400);
    assert!(
        answer.json["detail"].as_str().unwrap().contains("colour"),
        "{}",
        answer.text
    );

    // A wrong type is named, but the value (which may be a token) is never echoed.
    let mut wrong_type = acme();
    wrong_type["ghl_token"] = serde_json::json!(424_242_424_242_u64);
    let answer = app.post("/api/v1/connections", FULL, wrong_type).await;
    answer.assert_problem(400);
    assert!(!answer.text.contains("424242424242"), "{}", answer.text);

    assert_eq!(
        app.post("/api/v1/connections", FULL, acme()).await.status,
        201
    );
    app.post("/api/v1/connections", FULL, acme())
        .await
        .assert_problem(409);
    let mut same_location = acme();
    same_location["id"] = "acme-two".into();
    app.post("/api/v1/connections", FULL, same_location)
        .await
        .assert_problem(409);

    app.get("/api/v1/connections/nobody", READ)
        .await
        .assert_problem(404);
    app.patch(
        "/api/v1/connections/default",
        FULL,
        serde_json::json!({ "name": "x" }),
    )
    .await
    .assert_problem(409);
    app.post(
        "/api/v1/connections/default/tovuti-secrets",
        FULL,
        serde_json::json!({}),
    )
    .await
    .assert_problem(409);
    assert_eq!(
        audit_actions(app).await,
        ["connection.create"],
        "refusals are not audited"
    );
}

async fn a_read_only_token_reads_connections_but_changes_none(app: &AdminApp) {
    app.post("/api/v1/connections", READ, acme())
        .await
        .assert_problem(403);
    assert_eq!(
        app.post("/api/v1/connections", FULL, acme()).await.status,
        201
    );
    assert_eq!(app.get("/api/v1/connections/acme", READ).await.status, 200);
    assert_eq!(
        app.get("/api/v1/connections/acme/tovuti-secrets", READ)
            .await
            .status,
        200
    );
    for (method, path) in [
        ("PATCH", "/api/v1/connections/acme"),
        ("DELETE", "/api/v1/connections/acme"),
        ("POST", "/api/v1/connections/acme/pause"),
        ("POST", "/api/v1/connections/acme/tovuti-secrets"),
    ] {
        let request = crate::admin_support::request(method, path, Some(READ), Body::from("{}"));
        app.send(request).await.assert_problem(403);
    }
    let shown = app.get("/api/v1/connections/acme", READ).await;
    assert_eq!(shown.json["status"], "active");
}

async fn pause_and_resume_answer_with_the_new_status(app: &AdminApp) {
    assert_eq!(
        app.post("/api/v1/connections", FULL, acme()).await.status,
        201
    );
    let paused = app
        .post(
            "/api/v1/connections/acme/pause",
            FULL,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(paused.status, 200, "{}", paused.text);
    assert_eq!(paused.json["status"], "paused");
    assert!(paused.json["paused_at"].is_string(), "{}", paused.text);
    let resumed = app
        .post(
            "/api/v1/connections/acme/resume",
            FULL,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(resumed.json["status"], "active", "{}", resumed.text);
    assert!(resumed.json.get("paused_at").is_none(), "{}", resumed.text);
    assert_eq!(
        audit_actions(app).await,
        ["connection.create", "connection.pause", "connection.resume"]
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn without_an_encryption_key_tokens_are_refused_with_a_409_that_says_what_to_set() {
    let app = AdminApp::sqlite().await;
    let answer = app.post("/api/v1/connections", FULL, acme()).await;
    answer.assert_problem(409);
    assert!(answer.text.contains("keys generate"), "{}", answer.text);
    assert_no_planted_token(&answer.text);
    // Without tokens there is nothing to encrypt: the connection is made.
    let bare = serde_json::json!({ "id": "bare", "ghl_location_id": "loc-bare" });
    assert_eq!(
        app.post("/api/v1/connections", FULL, bare).await.status,
        201
    );
    app.finish().await;
}
