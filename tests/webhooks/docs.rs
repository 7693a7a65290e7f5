//! The commands in `docs/tovuti-webhooks.md` are what an outside sender copies; they must
//! deliver a genuine event to the real service as written.

use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::config::OptionalSecret;

use crate::common::ScratchDb;
use crate::common::config::config_on;
use crate::support::SECRET_A;

/// The first `sh` block after `heading`, with the `SECRET=` and `URL=` lines replaced.
fn documented_commands(heading: &str, secret: &str, url: &str) -> String {
    let doc = std::fs::read_to_string(concat!(
        env!("CARGO_MANIFEST_DIR"),
        "/docs/tovuti-webhooks.md"
    ))
    .unwrap();
    let section = &doc[doc.find(heading).expect("the heading is in the doc")..];
    let start = section.find("```sh\n").unwrap() + "```sh\n".len();
    let block = &section[start..start + section[start..].find("```").unwrap()];
    block
        .lines()
        .map(|line| match line {
            l if l.starts_with("SECRET=") => format!("SECRET='{secret}'"),
            l if l.starts_with("URL=") => format!("URL='{url}'"),
            l => l.to_owned(),
        })
        .collect::<Vec<_>>()
        .join("\n")
}

fn have(tool: &str) -> bool {
    std::process::Command::new(tool)
        .arg("--version")
        .output()
        .is_ok_and(|o| o.status.success())
        || std::process::Command::new(tool)
            .arg("version")
            .output()
            .is_ok_and(|o| o.status.success())
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_documented_curl_and_openssl_commands_deliver_a_signed_event() {
    if !(have("curl") && have("openssl")) {
        eprintln!("curl or openssl is missing; skipping");
        return;
    }
    let db = ScratchDb::sqlite();
    let mut config = config_on(&db);
    config.webhooks.tovuti.secrets = OptionalSecret::new(SECRET_A);
    let listener = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let url = format!("http://{}/webhooks/tovuti", listener.local_addr().unwrap());
    let shutdown = CancellationToken::new();
    let server = tokio::spawn(tovuti_ghl_bridge::run(config, listener, shutdown.clone()));
    let script = documented_commands("### With curl and openssl", SECRET_A, &url);

    let output = tokio::process::Command::new("bash")
        .arg("-c")
        .arg(&script)
        .output()
        .await
        .unwrap();

    let stdout = String::from_utf8_lossy(&output.stdout);
    assert!(
        stdout.starts_with("HTTP/1.1 200"),
        "{stdout}\n{}",
        String::from_utf8_lossy(&output.stderr)
    );
    assert!(stdout.contains(r#""status":"accepted""#), "{stdout}");
    shutdown.cancel();
    server.await.unwrap().unwrap();
}
