//! The console's pages that end things and read the logs: revoking one webhook secret,
//! removing a connection after typing its id, the audit log page, and the mapping page
//! with its preview. Each change is audited like the admin API's, refused to read-only
//! sessions and to forms without the session's CSRF token.

use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::store::{Cipher, Millis, NewAuditEntry};

use crate::admin_support::{AdminApp, FULL, READ};
use crate::console_support::{csrf, form, page, sign_in};

fn with_key(config: &mut Config) {
    config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
}

/// Adds the connection `acme` with two webhook secrets; returns the older secret's id.
async fn acme_with_secrets(app: &AdminApp) -> String {
    let made = app
        .post(
            "/api/v1/connections",
            FULL,
            serde_json::json!({ "id": "acme", "ghl_location_id": "loc-acme" }),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let path = "/api/v1/connections/acme/tovuti-secrets";
    let first = app.post(path, FULL, serde_json::json!({})).await;
    assert_eq!(first.status, 201, "{}", first.text);
    let second = app.post(path, FULL, serde_json::json!({})).await;
    assert_eq!(second.status, 201, "{}", second.text);
    first.json["id"].as_str().unwrap().to_owned()
}

async fn secret_ids(app: &AdminApp) -> Vec<String> {
    let list = app
        .get("/api/v1/connections/acme/tovuti-secrets", READ)
        .await;
    list.ids()
}

async fn revoking_one_secret_is_audited_and_guarded(app: &AdminApp) {
    let secret = acme_with_secrets(app).await;
    let reader = sign_in(app, READ).await;
    let seen = app.send(page("/console/connections/acme", &reader)).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert!(seen.text.contains("Stops verifying"));
    assert!(!seen.text.contains(">Revoke<"), "no button when read-only");
    let path = format!("/console/connections/acme/secrets/{secret}/revoke");
    let refused = app
        .send(form(&path, Some(&reader), &format!("csrf={}", csrf(&seen))))
        .await;
    assert_eq!(refused.status, 403);

    let cookie = sign_in(app, FULL).await;
    let shown = app.send(page("/console/connections/acme", &cookie)).await;
    assert!(shown.text.contains(&path), "a Revoke form per secret");
    let forged = app.send(form(&path, Some(&cookie), "csrf=forged")).await;
    assert_eq!(forged.status, 403);
    assert_eq!(secret_ids(app).await.len(), 2, "refusals change nothing");

    let done = app
        .send(form(
            &path,
            Some(&cookie),
            &format!("csrf={}", csrf(&shown)),
        ))
        .await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert!(done.text.contains("The secret was revoked"));
    let left = secret_ids(app).await;
    assert_eq!(left.len(), 1);
    assert!(!left.contains(&secret));
    let audit = app.get("/api/v1/audit", FULL).await;
    let entry = &audit.json["items"][0];
    assert_eq!(entry["action"], "tovuti_secret.revoke");
    assert_eq!(entry["connection"], "acme");
    assert_eq!(entry["target"], secret.as_str());
}

async fn removing_needs_the_id_typed_and_leaves_the_overview(app: &AdminApp) {
    acme_with_secrets(app).await;
    let reader = sign_in(app, READ).await;
    let confirm = app
        .send(page("/console/connections/acme/remove", &reader))
        .await;
    assert_eq!(confirm.status, 200);
    assert!(!confirm.text.contains("Remove the connection</button>"));
    let body = format!("csrf={}&confirm=acme", csrf(&confirm));
    let path = "/console/connections/acme/remove";
    assert_eq!(app.send(form(path, Some(&reader), &body)).await.status, 403);

    let cookie = sign_in(app, FULL).await;
    let connection = app.send(page("/console/connections/acme", &cookie)).await;
    assert!(connection.text.contains("/console/connections/acme/remove"));
    let confirm = app.send(page(path, &cookie)).await;
    let token = csrf(&confirm);
    let forged = app
        .send(form(path, Some(&cookie), "csrf=forged&confirm=acme"))
        .await;
    assert_eq!(forged.status, 403);
    let mistyped = app
        .send(form(
            path,
            Some(&cookie),
            &format!("csrf={token}&confirm=acm"),
        ))
        .await;
    assert_eq!(mistyped.status, 422, "{}", mistyped.text);
    assert!(mistyped.text.contains("Type the connection"));
    assert_eq!(app.get("/api/v1/connections/acme", READ).await.status, 200);

    let done = app
        .send(form(
            path,
            Some(&cookie),
            &format!("csrf={token}&confirm=acme"),
        ))
        .await;
    assert_eq!(done.status, 303, "{}", done.text);
    assert_eq!(done.headers["location"], "/console");
    let overview = app.send(page("/console", &cookie)).await;
    assert!(!overview.text.contains("/console/connections/acme\""));
    let gone = app.send(page("/console/connections/acme", &cookie)).await;
    assert_eq!(gone.status, 404);
    // A form left open on its page changes nothing any more.
    let resume = app
        .send(form(
            "/console/connections/acme/resume",
            Some(&cookie),
            &format!("csrf={token}"),
        ))
        .await;
    assert_eq!(resume.status, 404, "{}", resume.text);
    assert_eq!(app.get("/api/v1/connections/acme", READ).await.status, 404);
    let audit = app
        .get("/api/v1/audit?action=connection.remove", FULL)
        .await;
    assert_eq!(audit.json["items"][0]["connection"], "acme");
}

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let app = crate::admin_support::AdminApp::sqlite_with(super::with_key).await;
                    super::$scenario(&app).await;
                    app.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test]
                async fn $scenario() {
                    let Some(app) = crate::admin_support::AdminApp::postgres_with(super::with_key).await
                    else {
                        return;
                    };
                    super::$scenario(&app).await;
                    app.finish().await;
                }
            )*
        }
    };
}

on_both_backends!(
    revoking_one_secret_is_audited_and_guarded,
    removing_needs_the_id_typed_and_leaves_the_overview,
);

fn entry(action: &str, connection: &str, at: i64) -> NewAuditEntry {
    NewAuditEntry {
        at: Millis(at),
        token_id: "0badcafe".into(),
        action: action.into(),
        connection_id: Some(connection.into()),
        target: Some(format!("t-{at}")),
        detail: serde_json::json!({ "fields": ["name"] }),
    }
}

#[tokio::test]
async fn the_audit_page_lists_newest_first_filters_and_pages() {
    let app = AdminApp::sqlite().await;
    let base = 1_700_000_000_000;
    for n in 0..55 {
        let e = entry("connection.update", "c1", base + n);
        app.state.store.record_audit(&e).await.unwrap();
    }
    let e = entry("connection.remove", "c2", base + 100);
    app.state.store.record_audit(&e).await.unwrap();
    let cookie = sign_in(&app, READ).await;

    let first = app.send(page("/console/audit", &cookie)).await;
    assert_eq!(first.status, 200, "{}", first.text);
    let newest = first.text.find("t-1700000000100").unwrap();
    let older = first.text.find("t-1700000000054").unwrap();
    assert!(newest < older, "newest first");
    assert!(!first.text.contains("t-1700000000005<"), "50 a page");
    assert!(first.text.contains("Older entries"));

    let filtered = app
        .send(page(
            "/console/audit?connection=c1&action=connection.update",
            &cookie,
        ))
        .await;
    assert!(!filtered.text.contains("t-1700000000100"));
    let marker = "href=\"/console/audit?";
    let start = filtered
        .text
        .find(&format!("{marker}connection=c1&amp;action"))
        .unwrap();
    let next = filtered.text[start + marker.len() - 1..]
        .split('"')
        .next()
        .unwrap()
        .replace("&amp;", "&");
    let second = app
        .send(page(&format!("/console/audit{next}"), &cookie))
        .await;
    assert_eq!(second.status, 200, "{}", second.text);
    assert!(second.text.contains("t-1700000000000"), "{}", second.text);
    assert!(second.text.contains("t-1700000000004"));
    assert!(!second.text.contains("t-1700000000005<"), "no repeat");
    assert!(!second.text.contains("Older entries"));

    let bad = app.send(page("/console/audit?cursor=zzz", &cookie)).await;
    assert_eq!(bad.status, 400, "{}", bad.text);
    app.finish().await;
}

/// Adds the connection `acme` (no mapping of its own) over the admin API.
async fn acme(app: &AdminApp) {
    let made = app
        .post(
            "/api/v1/connections",
            FULL,
            serde_json::json!({ "id": "acme", "ghl_location_id": "loc-acme" }),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
}

fn sample_form(token: &str, sample: &str) -> String {
    serde_urlencoded::to_string([("csrf", token), ("sample", sample)]).unwrap()
}

#[tokio::test]
async fn the_mapping_page_validates_and_previews_a_pasted_sample() {
    let app = AdminApp::sqlite_with(|config| {
        with_key(config);
        config.ghl.location_id = "loc-configured".into();
    })
    .await;
    acme(&app).await;
    let cookie = sign_in(&app, FULL).await;
    // The configured `default` connection has no stored row; its mapping is shown too.
    let default = app
        .send(page("/console/connections/default/mapping", &cookie))
        .await;
    assert_eq!(default.status, 200, "{}", default.text);
    assert!(
        default.text.contains("the shipped example"),
        "{}",
        default.text
    );
    let path = "/console/connections/acme/mapping";
    let shown = app.send(page(path, &cookie)).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(
        shown.text.contains("the configured mapping"),
        "{}",
        shown.text
    );
    assert!(shown.text.contains("valid</span>"), "{}", shown.text);

    let preview = format!("{path}/preview");
    let sample = include_str!("../fixtures/tovuti/user.created.json");
    let planned = app
        .send(form(
            &preview,
            Some(&cookie),
            &sample_form(&csrf(&shown), sample),
        ))
        .await;
    assert_eq!(planned.status, 200, "{}", planned.text);
    assert!(
        planned.text.contains("Planned for user.created"),
        "{}",
        planned.text
    );
    assert!(planned.text.contains("upsert_contact"), "{}", planned.text);

    let odd = r#"{"type": "user.created"}"#;
    let odd = app
        .send(form(
            &preview,
            Some(&cookie),
            &sample_form(&csrf(&shown), odd),
        ))
        .await;
    assert!(odd.text.contains("Not understood"), "{}", odd.text);
    assert!(odd.text.contains("not a Tovuti event"), "{}", odd.text);
    let not_json = app
        .send(form(
            &preview,
            Some(&cookie),
            &sample_form(&csrf(&shown), "[1]"),
        ))
        .await;
    assert!(not_json.text.contains("a JSON object"), "{}", not_json.text);

    let forged = app
        .send(form(
            &preview,
            Some(&cookie),
            &sample_form("forged", sample),
        ))
        .await;
    assert_eq!(forged.status, 403);
    let reader = sign_in(&app, READ).await;
    let seen = app.send(page(path, &reader)).await;
    assert_eq!(seen.status, 200);
    assert!(
        !seen.text.contains("<textarea"),
        "no preview form when read-only"
    );
    let refused = app
        .send(form(
            &preview,
            Some(&reader),
            &sample_form(&csrf(&seen), sample),
        ))
        .await;
    assert_eq!(refused.status, 403, "as the admin API refuses a read token");
    let events = app.get("/api/v1/events", READ).await;
    assert_eq!(
        events.json["items"].as_array().unwrap().len(),
        0,
        "a preview stores nothing"
    );
    app.finish().await;
}

#[tokio::test]
async fn an_invalid_mapping_shows_its_problems_by_line() {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mapping.toml");
    std::fs::write(&file, "[[fields]]\nghl = 42\n").unwrap();
    let path = file.display().to_string();
    let app = AdminApp::sqlite_with(|config| {
        with_key(config);
        config.mapping.file = path.clone();
    })
    .await;
    acme(&app).await;
    let cookie = sign_in(&app, FULL).await;
    let shown = app
        .send(page("/console/connections/acme/mapping", &cookie))
        .await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(shown.text.contains("invalid</span>"), "{}", shown.text);
    assert!(shown.text.contains("Problems by line"), "{}", shown.text);
    assert!(
        shown.text.contains("(the configured mapping)"),
        "{}",
        shown.text
    );
    app.finish().await;
}
