//! `serve`'s startup preflight, the real binary against the sandbox fakes: a location that
//! lacks the mapping's GHL fields gets one warning and the service starts; `--strict`
//! refuses with exit 78, naming what is missing on either platform.

use std::io::{BufRead, BufReader};
use std::process::{Command, Stdio};

const BIN: &str = env!("CARGO_BIN_EXE_tovuti-ghl-bridge");

/// `serve --sandbox` with `args`, a database and mapping in `dir`.
fn serve(dir: &tempfile::TempDir, mapping: Option<&str>, args: &[&str]) -> Command {
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
        .current_dir(dir.path())
        .args(["serve", "--sandbox"])
        .args(args);
    if let Some(text) = mapping {
        let path = dir.path().join("mapping.toml");
        std::fs::write(&path, text).unwrap();
        command.env("BRIDGE_MAPPING_FILE", path);
    }
    command
}

/// The JSON log lines up to the one saying the service listens; panics if it never does.
fn logs_until_listening(stdout: impl std::io::Read) -> Vec<serde_json::Value> {
    let mut logs = Vec::new();
    for line in BufReader::new(stdout).lines() {
        let Ok(log) = serde_json::from_str::<serde_json::Value>(&line.unwrap()) else {
            continue;
        };
        let listening = log["message"] == "listening";
        logs.push(log);
        if listening {
            return logs;
        }
    }
    panic!("serve exited before listening: {logs:?}");
}

#[test]
fn serve_warns_once_about_what_the_location_lacks_and_starts() {
    let dir = tempfile::tempdir().unwrap();
    let mut child = serve(&dir, None, &[])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let logs = logs_until_listening(child.stdout.take().unwrap());
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));

    let warnings: Vec<&serde_json::Value> = logs
        .iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .is_some_and(|m| m.starts_with("preflight:"))
        })
        .filter(|l| l["level"] == "WARN")
        .collect();
    assert_eq!(warnings.len(), 1, "{logs:?}");
    let summary = warnings[0]["summary"].as_str().unwrap_or_default();
    for key in [
        "contact.lms_status",
        "contact.job_title",
        "contact.tovuti_user_id",
        "`lms.event_registered.calendar_id`: still the shipped placeholder",
    ] {
        assert!(summary.contains(key), "{key} not named: {summary}");
    }
    assert!(
        !summary.contains("Tovuti has no"),
        "the sandbox tenant defines every name the shipped mapping uses: {summary}"
    );
    assert_eq!(warnings[0]["problems"], 4, "{summary}");
}

#[test]
fn serve_strict_refuses_to_start_naming_what_either_platform_lacks() {
    let dir = tempfile::tempdir().unwrap();
    let lacking = "version = 1\n\n[[fields]]\nghl = \"companyName\"\ntovuti = { name = \"Company\" }\n\n\
                   [[fields]]\nghl = { key = \"contact.shoe_size\" }\ntovuti = { name = \"Shoe size\" }\n\
                   direction = \"to_ghl\"\n";
    let output = serve(&dir, Some(lacking), &["--strict"]).output().unwrap();
    let stderr = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(78), "{stderr}");
    assert!(
        stderr.contains("mapping.toml:8: `fields[1].ghl`: GHL has no contact custom field with key `contact.shoe_size`"),
        "{stderr}"
    );
    assert!(
        stderr.contains(
            "mapping.toml:9: `fields[1].tovuti`: Tovuti has no custom field named \"Shoe size\""
        ),
        "{stderr}"
    );
    assert!(!stderr.contains("\"Company\""), "Company exists: {stderr}");
}

#[test]
fn serve_strict_starts_when_both_platforms_hold_what_the_mapping_names() {
    let dir = tempfile::tempdir().unwrap();
    let present = "version = 1\n\n[[fields]]\nghl = \"companyName\"\ntovuti = { name = \"company\" }\n\n\
                   [ghl]\nnew_user_groups = [\"Registered\"]\n";
    let mut child = serve(&dir, Some(present), &["--strict"])
        .stdout(Stdio::piped())
        .stderr(Stdio::null())
        .spawn()
        .unwrap();
    let logs = logs_until_listening(child.stdout.take().unwrap());
    let pid = child.id().to_string();
    let killed = Command::new("kill").args(["-TERM", &pid]).status().unwrap();
    assert!(killed.success());
    assert_eq!(child.wait().unwrap().code(), Some(0));
    assert!(
        logs.iter()
            .any(|l| l["message"] == "preflight: everything the mapping names exists"),
        "{logs:?}"
    );
}
