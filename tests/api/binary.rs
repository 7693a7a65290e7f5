//! The real binary: exit codes, `config check`, `keys generate`, SIGTERM, and that no
//! secret reaches its output.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Output, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_tovuti-ghl-bridge");

/// Secrets planted in the environment; none may ever be printed.
const SECRETS: [(&str, &str); 6] = [
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
const TOVUTI_SECRET: &str = "whsec_cGxhbnRlZC10b3Z1dGktd2ViaG9vay1rZXktMzJieSE=";

/// Personal data planted in events; none may ever reach a log line.
const PERSONAL: [&str; 6] = [
    "grace.pii2@example.com",
    "Grace Hopper",
    "Hopper",
    "555 0199",
    "ada.pii3@example.com",
    "Lovelace",
];

fn command(dir: &tempfile::TempDir) -> Command {
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

fn with_secrets(mut command: Command) -> Command {
    for (name, value) in SECRETS {
        command.env(name, value);
    }
    command
}

fn assert_no_secret(text: &str) {
    for (name, value) in SECRETS {
        assert!(!text.contains(value), "{name} leaked into output:\n{text}");
    }
}

fn assert_no_personal_data(text: &str) {
    for value in PERSONAL {
        assert!(
            !text.contains(value),
            "`{value}` leaked into the logs:\n{text}"
        );
    }
}

/// A Tovuti `user.created` webhook, signed the Standard Webhooks way with the planted
/// secret.
fn tovuti_user_created(
    client: &reqwest::Client,
    address: &str,
    id: &str,
    user: &serde_json::Value,
) -> reqwest::RequestBuilder {
    let body = serde_json::json!({
        "id": id,
        "type": "user.created",
        "occurred_at": "2026-11-28T16:20:00Z",
        "data": { "user": user },
    })
    .to_string();
    let timestamp = jiff::Timestamp::now().as_second();
    let secret = tovuti_ghl_bridge::platforms::tovuti::WebhookSecret::parse(TOVUTI_SECRET);
    let signature = secret.unwrap().sign(id, timestamp, body.as_bytes());
    client
        .post(format!("http://{address}/webhooks/tovuti"))
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", timestamp.to_string())
        .header("webhook-signature", signature)
        .body(body)
}

/// Reads `serve`'s output on a thread, so the test can wait for a line while it runs.
fn read_lines(stdout: BufReader<std::process::ChildStdout>) -> std::sync::mpsc::Receiver<String> {
    let (lines, received) = std::sync::mpsc::channel();
    std::thread::spawn(move || {
        for line in stdout.lines().map_while(Result::ok) {
            if lines.send(line).is_err() {
                break;
            }
        }
    });
    received
}

fn text(output: &Output) -> String {
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

/// Starts `serve` and returns the child with the address it bound.
#[expect(clippy::zombie_processes, reason = "the caller waits for the child")]
fn start_serving(mut command: Command) -> (Child, String, BufReader<std::process::ChildStdout>) {
    let mut child = command
        .stdout(Stdio::piped())
        .stderr(Stdio::piped())
        .spawn()
        .unwrap();
    let mut stdout = BufReader::new(child.stdout.take().unwrap());
    let mut line = String::new();
    loop {
        line.clear();
        assert!(
            stdout.read_line(&mut line).unwrap() > 0,
            "serve exited before listening"
        );
        let Ok(log) = serde_json::from_str::<serde_json::Value>(&line) else {
            continue;
        };
        if log["message"] == "listening" {
            return (child, log["address"].as_str().unwrap().to_owned(), stdout);
        }
    }
}

#[tokio::test]
async fn sigterm_stops_serve_with_exit_code_0_and_no_secret_or_personal_data_in_the_logs() {
    let dir = tempfile::tempdir().unwrap();
    let mut serve = with_secrets(command(&dir));
    serve
        .env("RUST_LOG", "debug")
        .env("BRIDGE_GHL_LOCATION_ID", "loc-1")
        // Nothing listens there: outbound calls fail at once, and nothing leaves the host.
        .env("BRIDGE_GHL_BASE_URL", "http://127.0.0.1:9")
        .env("BRIDGE_WORKER__POLL_INTERVAL_MS", "50")
        .arg("serve");
    let (mut child, address, stdout) = start_serving(serve);
    let lines = read_lines(stdout);

    let client = reqwest::Client::new();
    for path in ["/healthz", "/readyz", "/metrics"] {
        let request = client
            .get(format!("http://{address}{path}"))
            .bearer_auth("admin-planted-77aa");
        let response = request.send().await.unwrap();
        assert_eq!(response.status(), 200, "{path}");
    }
    // One person synced to GHL (whose calls fail), one whose email and phone do not convert.
    let valid = serde_json::json!({ "id": 4212, "name": "Ada Lovelace",
        "email": "ada.pii3@example.com", "customFields": [{ "field_id": 23, "value": "+1 415 555 0132" }] });
    let invalid = serde_json::json!({ "id": 4211, "name": "Grace Hopper",
        "email": "Grace Hopper <grace.pii2@example.com>",
        "customFields": [{ "field_id": 23, "value": "call 555 0199" }] });
    for (id, user) in [("evt_pii_1", valid), ("evt_pii_2", invalid)] {
        let response = tovuti_user_created(&client, &address, id, &user)
            .send()
            .await;
        assert_eq!(response.unwrap().status(), 200, "{id}");
    }
    let mut logs = String::new();
    let deadline = std::time::Instant::now() + std::time::Duration::from_secs(30);
    while !logs.contains("a field was not synced") {
        let left = deadline.saturating_duration_since(std::time::Instant::now());
        let line = lines
            .recv_timeout(left)
            .expect("the worker reports the unsynced fields");
        logs.push_str(&line);
        logs.push('\n');
    }
    admin_api_leaks_nothing_unasked(&client, &address).await;
    let pid = child.id().to_string();
    assert!(
        Command::new("kill")
            .args(["-TERM", &pid])
            .status()
            .unwrap()
            .success()
    );
    let status = child.wait().unwrap();
    assert_eq!(status.code(), Some(0));

    for line in lines {
        logs.push_str(&line);
        logs.push('\n');
    }
    std::io::Read::read_to_string(&mut child.stderr.take().unwrap(), &mut logs).unwrap();
    assert!(logs.contains("shutdown signal received"), "{logs}");
    assert_no_secret(&logs);
    assert_no_personal_data(&logs);
}

/// The admin API (on, with the planted token) shows events without their personal data
/// and without a secret; only a payload read, which the caller asks for, has the data.
async fn admin_api_leaks_nothing_unasked(client: &reqwest::Client, address: &str) {
    let get = |path: String| {
        client
            .get(format!("http://{address}{path}"))
            .bearer_auth("admin-planted-77aa")
            .send()
    };
    let listed: serde_json::Value = get("/api/v1/events".into())
        .await
        .unwrap()
        .json()
        .await
        .unwrap();
    let items = listed["items"].as_array().unwrap();
    assert_eq!(items.len(), 2, "{listed}");
    let mut answers = vec![listed.to_string()];
    for item in items {
        let id = item["id"].as_str().unwrap();
        answers.push(
            get(format!("/api/v1/events/{id}"))
                .await
                .unwrap()
                .text()
                .await
                .unwrap(),
        );
    }
    for path in ["/api/v1/dead-letters", "/api/v1/backlog", "/api/v1/audit"] {
        answers.push(get(path.into()).await.unwrap().text().await.unwrap());
    }
    let wrong = client
        .get(format!("http://{address}/api/v1/events"))
        .bearer_auth("admin-planted-77aa-wrong")
        .send()
        .await
        .unwrap();
    assert_eq!(wrong.status(), 401);
    answers.push(wrong.text().await.unwrap());
    for text in &answers {
        assert_no_secret(text);
        assert_no_personal_data(text);
    }
    let id = items[0]["id"].as_str().unwrap();
    let asked = get(format!("/api/v1/events/{id}?include=payload"))
        .await
        .unwrap();
    let asked = asked.text().await.unwrap();
    assert!(
        PERSONAL.iter().any(|p| asked.contains(p)),
        "the payload asked for: {asked}"
    );
    assert_no_secret(&asked);
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
