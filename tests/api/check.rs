//! `tovuti-ghl-bridge check` as a user runs it, against the fake GHL.

use std::process::Command;

use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};

const BIN: &str = env!("CARGO_BIN_EXE_tovuti-ghl-bridge");

/// Runs `check` with `token` in the environment, off the async runtime.
async fn check(fake: &FakeGhl, token: &str) -> (Option<i32>, String) {
    let dir = tempfile::tempdir().unwrap();
    let mut command = Command::new(BIN);
    command
        .arg("check")
        .env_clear()
        .env(
            "BRIDGE_DATABASE_URL",
            format!("sqlite://{}/bridge.db", dir.path().display()),
        )
        .env("BRIDGE_GHL_BASE_URL", fake.base_url())
        .env("BRIDGE_GHL_LOCATION_ID", "loc-1")
        .env("BRIDGE_GHL_TOKEN", token);
    let output = tokio::task::spawn_blocking(move || command.output())
        .await
        .unwrap()
        .unwrap();
    let text = String::from_utf8_lossy(&output.stdout).into_owned()
        + &String::from_utf8_lossy(&output.stderr);
    assert!(!text.contains(token), "the token leaked into the output");
    (output.status.code(), text)
}

#[tokio::test]
async fn check_exits_0_when_every_capability_works() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let (code, text) = check(&fake, &fake.issue_token("loc-1", ALL_SCOPES)).await;
    assert_eq!(code, Some(0), "{text}");
    assert!(text.contains("rate limit: "), "{text}");
}

#[tokio::test]
async fn check_exits_1_and_names_the_missing_scope_or_the_revoked_token() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let read_only = fake.issue_token("loc-1", &["contacts.readonly"]);
    let (code, text) = check(&fake, &read_only).await;
    assert_eq!(code, Some(1), "{text}");
    assert!(
        text.contains("forbidden (missing scope contacts.write)"),
        "{text}"
    );

    let revoked = fake.issue_token("loc-1", ALL_SCOPES);
    fake.revoke(&revoked);
    let (code, text) = check(&fake, &revoked).await;
    assert_eq!(code, Some(1), "{text}");
    assert!(text.contains("unauthorized"), "{text}");
}
