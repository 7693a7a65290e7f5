//! `events list` and `events show`: the admin API's queries from the command line, on
//! the same store, answering what the API answers.

use std::process::Command;

use crate::admin_support::{AdminApp, EMAIL, READ, seed};

const BIN: &str = env!("CARGO_BIN_EXE_tovuti-ghl-bridge");

/// Runs the binary with `args` against the app's store; returns exit code and stdout.
async fn events(app: &AdminApp, args: &[&str]) -> (Option<i32>, String) {
    let url = app.state.config.store.url.expose().to_owned();
    let args: Vec<String> = args.iter().map(|a| (*a).to_owned()).collect();
    let output = tokio::task::spawn_blocking(move || {
        Command::new(BIN)
            .arg("events")
            .args(&args)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .env("BRIDGE_DATABASE_URL", url)
            .output()
            .unwrap()
    })
    .await
    .unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert!(
        output.status.success() || !stderr.is_empty(),
        "no reason given"
    );
    (
        output.status.code(),
        String::from_utf8_lossy(&output.stdout).into_owned(),
    )
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn events_list_and_show_print_what_the_api_answers() {
    let app = AdminApp::sqlite().await;
    let s = seed(&app).await;

    let (code, json) = events(
        &app,
        &["list", "--status", "dead,done", "--limit", "2", "--json"],
    )
    .await;
    assert_eq!(code, Some(0), "{json}");
    let printed: serde_json::Value = serde_json::from_str(&json).unwrap();
    let api = app
        .get("/api/v1/events?status=dead,done&limit=2", READ)
        .await;
    assert_eq!(printed, api.json);
    let next = printed["next"].as_str().unwrap();
    let (_, rest) = events(
        &app,
        &[
            "list", "--status", "dead", "--status", "done", "--cursor", next, "--json",
        ],
    )
    .await;
    let rest: serde_json::Value = serde_json::from_str(&rest).unwrap();
    assert_eq!(rest["items"][0]["id"], s.dead_ghl.to_string());

    let (code, table) = events(&app, &["list", "--connection", "c2"]).await;
    assert_eq!(code, Some(0));
    assert!(table.starts_with("ID "), "{table}");
    assert!(table.contains(&s.done.to_string()) && table.contains(&s.processing.to_string()));
    assert!(!table.contains(&s.pending.to_string()), "{table}");

    let id = s.dead_ghl.to_string();
    let (code, shown) = events(&app, &["show", &id, "--json"]).await;
    assert_eq!(code, Some(0));
    let shown: serde_json::Value = serde_json::from_str(&shown).unwrap();
    assert_eq!(
        shown,
        app.get(&format!("/api/v1/events/{id}"), READ).await.json
    );
    let (_, text) = events(&app, &["show", &id]).await;
    assert!(
        text.contains("attempts (1)") && text.contains("custom field shoe_size"),
        "{text}"
    );
    assert!(!text.contains(EMAIL), "the payload is never printed");

    let (code, _) = events(&app, &["show", "0190b6a2-6d1c-7a3e-9f00-00000000abcd"]).await;
    assert_eq!(code, Some(1));
    app.finish().await;
}
