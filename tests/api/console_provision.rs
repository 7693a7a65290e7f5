//! The Mapping page's "Missing in the accounts" against the fake GHL and Tovuti: what the
//! mapping names that the accounts lack, the form that creates the missing GHL custom
//! fields (audited), who may post it, and how a GHL that refuses or cannot be reached
//! reads.

use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
use tovuti_ghl_bridge::sandbox::tovuti::FakeTovuti;
use tovuti_ghl_bridge::store::Cipher;

use crate::admin_support::{AdminApp, FULL, READ};
use crate::console_support::{csrf, form, page, sign_in};

const TOVUTI_TOKEN: &str = "5|console-provision-tovuti-token";
const BUTTON: &str = "Create the missing GHL fields";
const PAGE: &str = "/console/connections/acme/mapping";
const POST: &str = "/console/connections/acme/mapping/provision";

/// One GHL custom field by key (a number) and one Tovuti custom field by id.
const MAPPING: &str = "version = 1\n\n[[fields]]\nghl = { key = \"contact.lms_score\" }\n\
                       tovuti = { field_id = 23 }\ntype = \"number\"\ndirection = \"to_ghl\"\n";

/// The service against `ghl`, its mapping file `MAPPING` (kept while the directory lives).
async fn app_with_mapping(ghl: &FakeGhl) -> (AdminApp, tempfile::TempDir) {
    let dir = tempfile::tempdir().unwrap();
    let file = dir.path().join("mapping.toml");
    std::fs::write(&file, MAPPING).unwrap();
    let ghl_url = ghl.base_url();
    let app = AdminApp::sqlite_with(|config: &mut Config| {
        config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
        config.ghl.base_url = ghl_url;
        config.mapping.file = file.display().to_string();
    })
    .await;
    (app, dir)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_mapping_page_lists_what_the_accounts_lack_and_creates_the_ghl_fields() {
    let ghl = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let tovuti = FakeTovuti::start(TOVUTI_TOKEN).await.unwrap();
    tovuti.insert_custom_field(23, "Score");
    let (app, _mapping) = app_with_mapping(&ghl).await;
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

    let shown = app.send(page(PAGE, &cookie)).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    for expected in ["contact.lms_score", "Lms Score", "NUMERICAL", BUTTON] {
        assert!(shown.text.contains(expected), "{expected}: {}", shown.text);
    }
    assert!(
        shown.text.contains("Tovuti: nothing missing."),
        "{}",
        shown.text
    );

    // Without the session's CSRF token the post is refused and nothing is made.
    let forged = app.send(form(POST, Some(&cookie), "csrf=forged")).await;
    assert_eq!(forged.status, 403);
    assert!(ghl.custom_fields().is_empty());

    let made = app
        .send(form(POST, Some(&cookie), &format!("csrf={}", csrf(&shown))))
        .await;
    assert_eq!(made.status, 303, "{}", made.text);
    let back = made.headers["location"].to_str().unwrap().to_owned();
    assert_eq!(back, format!("{PAGE}?created=1&unresolved=0"));
    let fields = ghl.custom_fields();
    assert_eq!(fields.len(), 1, "{fields:?}");
    assert_eq!(fields[0].0, "contact.lms_score");
    assert_eq!(fields[0].2, "NUMERICAL");
    let audit = app.get("/api/v1/audit", FULL).await;
    let entry = &audit.json["items"][0];
    assert_eq!(entry["action"], "mapping.provision");
    assert_eq!(entry["connection"], "acme", "{entry}");
    assert_eq!(
        entry["detail"],
        serde_json::json!({ "created": ["contact.lms_score"] })
    );

    let again = app.send(page(&back, &cookie)).await;
    assert_eq!(again.status, 200, "{}", again.text);
    assert!(
        again.text.contains("Created 1 GHL custom field."),
        "{}",
        again.text
    );
    assert!(
        again.text.contains("GHL: nothing missing."),
        "{}",
        again.text
    );
    assert!(!again.text.contains(BUTTON));

    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_read_only_session_sees_what_is_missing_but_cannot_create_it() {
    let ghl = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let (app, _mapping) = app_with_mapping(&ghl).await;
    let body = serde_json::json!({
        "id": "acme",
        "ghl_location_id": "loc-1",
        "ghl_token": ghl.issue_token("loc-1", ALL_SCOPES),
    });
    let created = app.post("/api/v1/connections", FULL, body).await;
    assert_eq!(created.status, 201, "{}", created.text);

    let reader = sign_in(&app, READ).await;
    let shown = app.send(page(PAGE, &reader)).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(shown.text.contains("contact.lms_score"), "{}", shown.text);
    assert!(!shown.text.contains(BUTTON));
    assert!(
        shown.text.contains("the connection has no Tovuti API"),
        "{}",
        shown.text
    );
    let refused = app
        .send(form(POST, Some(&reader), &format!("csrf={}", csrf(&shown))))
        .await;
    assert_eq!(refused.status, 403);
    assert!(ghl.custom_fields().is_empty());
    app.finish().await;
}

#[tokio::test]
async fn a_connection_whose_ghl_cannot_be_reached_says_so_on_the_page() {
    let app = AdminApp::sqlite().await;
    let made = app
        .post(
            "/api/v1/connections",
            FULL,
            serde_json::json!({ "id": "acme", "ghl_location_id": "loc-acme" }),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let cookie = sign_in(&app, FULL).await;
    let shown = app.send(page(PAGE, &cookie)).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(shown.text.contains("Not checked:"), "{}", shown.text);
    assert!(shown.text.contains("cannot reach GHL"), "{}", shown.text);
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_refused_token_reads_as_refused_not_as_unreachable() {
    let ghl = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let (app, _mapping) = app_with_mapping(&ghl).await;
    // A token the fake GHL never issued: it answers 401.
    let body = serde_json::json!({
        "id": "acme",
        "ghl_location_id": "loc-1",
        "ghl_token": "pit-the-fake-never-issued",
    });
    let created = app.post("/api/v1/connections", FULL, body).await;
    assert_eq!(created.status, 201, "{}", created.text);
    let cookie = sign_in(&app, FULL).await;
    let shown = app.send(page(PAGE, &cookie)).await;
    assert_eq!(shown.status, 200, "{}", shown.text);
    assert!(
        shown
            .text
            .contains("GHL refused the connection&#x27;s token (re-authorise it)."),
        "{}",
        shown.text
    );
    assert!(!shown.text.contains("cannot be reached"), "{}", shown.text);
    assert!(
        !shown.text.contains("Invalid JWT"),
        "GHL's answer is not quoted"
    );
    assert!(!shown.text.contains(BUTTON));
    app.finish().await;
}
