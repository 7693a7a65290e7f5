//! `serve` as a process: it takes signed traffic, stops on SIGTERM with exit code 0, and
//! neither its logs nor its admin API show a planted secret or personal data unasked.

use std::io::{BufRead, BufReader};
use std::process::{Child, Command, Stdio};

use crate::binary::{
    PERSONAL, TOVUTI_SECRET, assert_no_personal_data, assert_no_secret, command, with_secrets,
};

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
