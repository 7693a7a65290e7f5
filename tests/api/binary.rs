//! The real binary: exit codes, `config check`, `keys generate`, and that no secret
//! reaches its output. `serve` under SIGTERM, with traffic, is in `binary_serve.rs`.

use std::io::{BufRead, BufReader};
use std::process::{Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_tovuti-ghl-bridge");

/// Secrets planted in the environment; none may ever be printed.
pub(crate) const SECRETS: [(&str, &str); 6] = [
    ("BRIDGE_GHL_TOKEN", "pit-planted-4f1c9e"),
    ("BRIDGE_ADMIN_TOKEN", "admin-planted-77aa"),
    ("BRIDGE_GHL_CLIENT_SECRET", "oauth-planted-b3d2"),
    ("BRIDGE_TOVUTI_TOKEN", "tovuti-planted-9c0d"),
    (
        "BRIDGE_ENCRYPTION_KEY",
        "AAECAwQFBgcICQoLDA0ODxAREhMUFRYXGBkaGxwdHh8=",
    ),
    ("BRIDGE_TOVUTI_WEBHOOK_SECRET", TOVUTI_SECRET),
];

/// The planted Tovuti webhook secret: `whsec_` and base64 of the HMAC key.
pub(crate) const TOVUTI_SECRET: &str = "whsec_cGxhbnRlZC10b3Z1dGktd2ViaG9vay1rZXktMzJieSE=";

/// Personal data planted in events; none may ever reach a log line.
pub(crate) const PERSONAL: [&str; 6] = [
    "grace.pii2@example.com",
    "Grace Hopper",
    "Hopper",
    "555 0199",
    "ada.pii3@example.com",
    "Lovelace",
];

pub(crate) fn command(dir: &tempfile::TempDir) -> Command {
    let mut command = Command::new(BIN);
    command
        .env_clear()
        .env("PATH", std::env::var("PATH").unwrap_or_default())
        .env(
            "BRIDGE_DATABASE_URL",
            format!("sqlite://{}/bridge.db", dir.path().display()),
        )
        .env("BRIDGE_LISTEN", "127.0.0.1:0")
        .env("BRIDGE_TELEMETRY__LOG_FORMAT", "json")
        .env("BRIDGE_GHL_CLIENT_ID", "client-1")
        .current_dir(dir.path());
    command
}

pub(crate) fn with_secrets(mut command: Command) -> Command {
    for (name, value) in SECRETS {
        command.env(name, value);
    }
    command
}

pub(crate) fn assert_no_secret(text: &str) {
    for (name, value) in SECRETS {
        assert!(!text.contains(value), "{name} leaked into output:\n{text}");
    }
}

pub(crate) fn assert_no_personal_data(text: &str) {
    for value in PERSONAL {
        assert!(
            !text.contains(value),
            "`{value}` leaked into the logs:\n{text}"
        );
    }
}

pub(crate) fn text(output: &Output) -> String {
    format!(
        "{}{}",
        String::from_utf8_lossy(&output.stdout),
        String::from_utf8_lossy(&output.stderr)
    )
}

#[test]
fn config_check_prints_the_effective_configuration_with_secrets_redacted() {
    let dir = tempfile::tempdir().unwrap();
    let mut check = with_secrets(command(&dir));
    check.env(
        "BRIDGE_DATABASE_URL",
        "postgres://bridge:db-planted-pass@db.internal:5432/bridge",
    );
    let output = check.args(["config", "check"]).output().unwrap();
    assert!(output.status.success(), "{}", text(&output));
    let printed = String::from_utf8_lossy(&output.stdout);
    assert!(printed.contains("token = \"[redacted]\""), "{printed}");
    assert!(
        printed.contains("postgres://bridge:***@db.internal:5432/bridge"),
        "{printed}"
    );
    assert!(printed.contains("client_id = \"client-1\""), "{printed}");
    assert!(!printed.contains("db-planted-pass"));
    assert_no_secret(&text(&output));
}

#[test]
fn a_bad_configuration_exits_78_naming_every_bad_key() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(&dir)
        .env("BRIDGE_LISTEN", "not-an-address")
        .env("BRIDGE_STORE__MAX_CONNECTIONS", "lots")
        .env("BRIDGE_STORE__ACQUIRE_TIMEOUT_SECS", "-3")
        .env("BRIDGE_DATABASE_URL", "mysql://db/bridge")
        .env("BRIDGE_ENCRYPTION_KEY", "too-short")
        .env("BRIDGE_TELEMETRY__LOG_FORMAT", "xml")
        .arg("serve")
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(78), "{}", text(&output));
    let stderr = String::from_utf8_lossy(&output.stderr);
    for key in [
        "server.listen",
        "store.max_connections",
        "store.acquire_timeout_secs",
        "store.url",
        "security.encryption_key",
        "telemetry.log_format",
    ] {
        assert!(stderr.contains(key), "{key} not named:\n{stderr}");
    }
    assert!(
        !stderr.contains("too-short"),
        "the bad key's value is a secret:\n{stderr}"
    );
}

#[test]
fn unknown_flags_exit_2_with_a_message() {
    let dir = tempfile::tempdir().unwrap();
    let output = command(&dir)
        .args(["serve", "--no-such-flag"])
        .output()
        .unwrap();
    assert_eq!(output.status.code(), Some(2));
    assert!(String::from_utf8_lossy(&output.stderr).contains("--no-such-flag"));
}

#[test]
fn keys_generate_prints_a_32_byte_key_and_a_webhook_secret() {
    use base64::Engine as _;
    let dir = tempfile::tempdir().unwrap();
    let output = command(&dir).args(["keys", "generate"]).output().unwrap();
    assert!(output.status.success());
    let printed = String::from_utf8_lossy(&output.stdout);
    let value = |name: &str| {
        printed
            .lines()
            .find_map(|l| l.strip_prefix(&format!("{name}=")))
            .unwrap_or_else(|| panic!("{name}"))
            .to_owned()
    };
    let key = base64::engine::general_purpose::STANDARD
        .decode(value("BRIDGE_ENCRYPTION_KEY"))
        .unwrap();
    assert_eq!(key.len(), 32);
    let secret = value("BRIDGE_TOVUTI_WEBHOOK_SECRET");
    let raw = secret.strip_prefix("whsec_").expect("whsec_ prefix");
    assert_eq!(
        base64::engine::general_purpose::STANDARD
            .decode(raw)
            .unwrap()
            .len(),
        32
    );
    let again = command(&dir).args(["keys", "generate"]).output().unwrap();
    assert_ne!(again.stdout, output.stdout, "fresh every time");
}

#[test]
fn without_an_admin_token_startup_says_the_admin_api_is_off_and_how_to_turn_it_on() {
    let dir = tempfile::tempdir().unwrap();
    let mut serve = command(&dir);
    // OAuth would need an encryption key too; this test is about the admin API alone.
    serve
        .env_remove("BRIDGE_GHL_CLIENT_ID")
        .arg("serve")
        .stdout(Stdio::piped())
        .stderr(Stdio::inherit());
    let mut child = serve.spawn().unwrap();
    let stdout = BufReader::new(child.stdout.take().unwrap());
    let mut before_listening = Vec::new();
    for line in stdout.lines().map_while(Result::ok) {
        let log: serde_json::Value = serde_json::from_str(&line).unwrap_or_default();
        if log["message"] == "listening" {
            break;
        }
        before_listening.push(log);
    }
    let kill = Command::new("kill")
        .args(["-TERM", &child.id().to_string()])
        .status();
    assert!(kill.unwrap().success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    let off: Vec<_> = before_listening
        .iter()
        .filter(|log| {
            log["message"]
                .as_str()
                .is_some_and(|m| m.contains("admin API"))
        })
        .collect();
    assert_eq!(off.len(), 1, "{before_listening:?}");
    assert_eq!(off[0]["level"], "INFO");
    let message = off[0]["message"].as_str().unwrap();
    assert!(
        message.contains("disabled") && message.contains("BRIDGE_ADMIN_TOKEN"),
        "{message}"
    );
}
