//! `connections ...` through the real binary: add, list, show and a webhook secret, on a
//! SQLite file; tokens never printed; a clear error without an encryption key.

use std::process::{Command, Output};

const BIN: &str = env!("CARGO_BIN_EXE_tovuti-ghl-bridge");
const KEY: &str = "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=";
const GHL_TOKEN: &str = "pit-cli-planted-6a1f";
const TOVUTI_TOKEN: &str = "tovuti-cli-planted-0b9e";

fn bridge(dir: &tempfile::TempDir, key: Option<&str>, args: &[&str]) -> Output {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "BRIDGE_DATABASE_URL",
            format!("sqlite://{}/bridge.db", dir.path().display()),
        )
        .current_dir(dir.path())
        .args(args);
    if let Some(key) = key {
        command.env("BRIDGE_ENCRYPTION_KEY", key);
    }
    command.output().unwrap()
}

fn json(output: &Output) -> serde_json::Value {
    assert!(output.status.success(), "{}", text(output));
    serde_json::from_slice(&output.stdout).unwrap()
}

fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn connections_are_added_listed_shown_and_given_a_secret() {
    let dir = tempfile::tempdir().unwrap();
    assert!(bridge(&dir, None, &["migrate"]).status.success());
    let add = [
        "connections",
        "add",
        "--id",
        "acme",
        "--name",
        "Acme Academy",
        "--ghl-location",
        "loc-acme",
        "--ghl-token",
        GHL_TOKEN,
        "--tovuti-url",
        "https://acme.example.com/api/v1",
        "--tovuti-token",
        TOVUTI_TOKEN,
    ];

    let added = bridge(&dir, Some(KEY), &add);
    let listed = bridge(&dir, Some(KEY), &["connections", "list"]);
    let shown = bridge(&dir, Some(KEY), &["connections", "show", "acme"]);
    let secret = bridge(&dir, Some(KEY), &["connections", "secret", "add", "acme"]);
    let secrets = bridge(&dir, Some(KEY), &["connections", "secret", "list", "acme"]);

    assert_eq!(json(&added)["id"], "acme");
    assert_eq!(json(&added)["ghl"]["token"]["set"], true);
    let ids: Vec<_> = json(&listed)
        .as_array()
        .unwrap()
        .iter()
        .map(|c| c["id"].clone())
        .collect();
    assert_eq!(ids, ["acme"]);
    assert_eq!(
        json(&shown)["tovuti"]["webhook_path"],
        "/webhooks/tovuti/acme"
    );
    let made = json(&secret);
    assert!(made["secret"].as_str().unwrap().starts_with("whsec_"));
    assert_eq!(json(&secrets)[0]["fingerprint"], made["fingerprint"]);
    for output in [&added, &listed, &shown, &secrets] {
        let all = text(output);
        assert!(
            !all.contains(GHL_TOKEN) && !all.contains(TOVUTI_TOKEN),
            "{all}"
        );
        assert!(!all.contains("whsec_"), "{all}");
    }
}

#[test]
fn adding_tokens_without_an_encryption_key_says_what_to_set() {
    let dir = tempfile::tempdir().unwrap();
    assert!(bridge(&dir, None, &["migrate"]).status.success());

    let refused = bridge(
        &dir,
        None,
        &[
            "connections",
            "add",
            "--id",
            "acme",
            "--ghl-location",
            "loc-acme",
            "--ghl-token",
            GHL_TOKEN,
        ],
    );

    assert!(!refused.status.success());
    let all = text(&refused);
    assert!(all.contains("BRIDGE_ENCRYPTION_KEY"), "{all}");
    assert!(!all.contains(GHL_TOKEN), "{all}");
}

#[test]
fn update_changes_only_what_it_is_given_as_the_api_does() {
    let dir = tempfile::tempdir().unwrap();
    assert!(bridge(&dir, None, &["migrate"]).status.success());
    let add = [
        "connections",
        "add",
        "--id",
        "acme",
        "--name",
        "Acme Academy",
        "--ghl-location",
        "loc-acme",
        "--tovuti-url",
        "https://acme.example.com/api/v1",
    ];
    json(&bridge(&dir, Some(KEY), &add));

    let renamed = bridge(
        &dir,
        Some(KEY),
        &[
            "connections",
            "update",
            "acme",
            "--name",
            "Acme",
            "--ghl-token",
            GHL_TOKEN,
        ],
    );
    let cleared = bridge(
        &dir,
        Some(KEY),
        &["connections", "update", "acme", "--tovuti-url", ""],
    );
    let invalid = bridge(
        &dir,
        Some(KEY),
        &[
            "connections",
            "update",
            "acme",
            "--ghl-location",
            "not valid!",
        ],
    );
    let unknown = bridge(
        &dir,
        Some(KEY),
        &["connections", "update", "nobody", "--name", "x"],
    );

    let renamed = json(&renamed);
    assert_eq!(renamed["name"], "Acme");
    assert_eq!(renamed["ghl"]["location_id"], "loc-acme", "{renamed}");
    assert_eq!(renamed["ghl"]["token"]["set"], true);
    assert_eq!(
        renamed["tovuti"]["base_url"],
        "https://acme.example.com/api/v1"
    );
    let cleared = json(&cleared);
    assert_eq!(
        cleared["tovuti"]["base_url"],
        serde_json::Value::Null,
        "{cleared}"
    );
    assert_eq!(cleared["name"], "Acme");
    assert!(!invalid.status.success());
    assert!(
        text(&invalid).contains("ghl_location_id"),
        "{}",
        text(&invalid)
    );
    assert!(!unknown.status.success());
    let shown = json(&bridge(&dir, Some(KEY), &["connections", "show", "acme"]));
    assert_eq!(
        shown["ghl"]["location_id"], "loc-acme",
        "the refused change left it"
    );
    assert!(!text(&bridge(&dir, Some(KEY), &["connections", "show", "acme"])).contains(GHL_TOKEN));
}
