//! `tovuti-ghl-bridge check` as a user runs it, against the fake GHL and the fake Tovuti.

use std::process::Command;

use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
use tovuti_ghl_bridge::sandbox::tovuti::FakeTovuti;

const BIN: &str = env!("CARGO_BIN_EXE_tovuti-ghl-bridge");
const TOVUTI_TOKEN: &str = "5|tovuti-check-token";

/// Runs `check` (with `extra` arguments) with `token` in the environment, and `tovuti`
/// configured when given, off the async runtime.
async fn check(
    fake: &FakeGhl,
    token: &str,
    tovuti: Option<(&FakeTovuti, &str)>,
    extra: &[&str],
) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(BIN);
    command
        .arg("check")
        .args(extra)
        .env_clear()
        .env(
            "BRIDGE_DATABASE_URL",
            format!("sqlite://{}/bridge.db", dir.path().display()),
        )
        .env("BRIDGE_GHL_BASE_URL", fake.base_url())
        .env("BRIDGE_GHL_LOCATION_ID", "loc-1")
        .env("BRIDGE_GHL_TOKEN", token);
    if let Some((tovuti, tovuti_token)) = tovuti {
        command
            .env("BRIDGE_TOVUTI_BASE_URL", tovuti.base_url())
            .env("BRIDGE_TOVUTI_TOKEN", tovuti_token);
    }
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(!text.contains(token), "the token leaked into the output");
    assert!(!text.contains(TOVUTI_TOKEN), "the Tovuti token leaked");
    (output.status.code(), text)
}

/// A Tovuti tenant with the custom fields, groups and courses the shipped mapping names.
async fn tovuti_with_the_example_records() -> FakeTovuti {
    let fake = FakeTovuti::start(TOVUTI_TOKEN).await.unwrap();
    fake.insert_example_catalog();
    fake
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

#[tokio::test]
async fn check_exits_0_when_everything_the_mapping_needs_works() {
    let (fake, token) = ghl_with_a_contact().await;
    let tovuti = tovuti_with_the_example_records().await;
    let (code, text) = check(&fake, &token, Some((&tovuti, TOVUTI_TOKEN)), &[]).await;
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("rate limit: "), "{text}");
    assert!(
        text.contains("everything the mapping needs works"),
        "{text}"
    );
}

#[tokio::test]
async fn an_empty_location_exits_1_unless_untested_needs_are_allowed() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let token = fake.issue_token("loc-1", ALL_SCOPES);
    let tovuti = tovuti_with_the_example_records().await;
    let configured = Some((&tovuti, TOVUTI_TOKEN));
    let (code, text) = check(&fake, &token, configured, &[]).await;
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("NOT verified: contacts.get"), "{text}");
    let (code, text) = check(&fake, &token, configured, &["--allow-untested"]).await;
    assert_eq!(code, Some(0), "{text}");
}

#[tokio::test]
async fn check_exits_1_and_names_the_missing_scope_or_the_revoked_token() {
    let (fake, _) = ghl_with_a_contact().await;
    let tovuti = tovuti_with_the_example_records().await;
    let configured = Some((&tovuti, TOVUTI_TOKEN));
    let read_only = fake.issue_token("loc-1", &["contacts.readonly"]);
    let (code, text) = check(&fake, &read_only, configured, &[]).await;
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("forbidden (missing scope contacts.write)"),
        "{text}"
    );

    // The shipped mapping names its workflow by name, so the workflow list must be readable.
    let scopes: Vec<&str> = ALL_SCOPES
        .iter()
        .copied()
        .filter(|scope| *scope != "workflows.readonly")
        .collect();
    let no_workflows = fake.issue_token("loc-1", &scopes);
    let (code, text) = check(&fake, &no_workflows, configured, &[]).await;
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("forbidden (missing scope workflows.readonly)"),
        "{text}"
    );

    let revoked = fake.issue_token("loc-1", ALL_SCOPES);
    fake.revoke(&revoked);
    let (code, text) = check(&fake, &revoked, configured, &[]).await;
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("unauthorized"), "{text}");

    let full = fake.issue_token("loc-1", ALL_SCOPES);
    let (code, text) = check(&fake, &full, Some((&tovuti, "5|revoked")), &[]).await;
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("tovuti token: unauthorized"), "{text}");
}
