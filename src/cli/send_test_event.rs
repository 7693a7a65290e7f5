//! `send-test-event ghl|tovuti TYPE`: signs a sample event the way the sender would and posts
//! it, so a new installation (and the README, the docs and the benchmark) can see intake work.

use std::path::Path;
use std::process::ExitCode;

use anyhow::{Context as _, bail};
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::DecodePrivateKey as _;
use jiff::Timestamp;

use crate::platforms::tovuti::WebhookSecret;
use crate::sandbox::samples;

#[derive(Debug, Clone, Copy, PartialEq, Eq, clap::ValueEnum)]
pub enum Platform {
    Ghl,
    Tovuti,
}

/// Sign a sample webhook event and POST it to the service.
#[derive(Debug, clap::Args)]
pub struct SendTestEventArgs {
    /// Which front door to knock on.
    pub platform: Platform,
    /// Event type, e.g. ContactCreate or user.created; unknown types send a minimal body.
    pub event_type: String,
    /// Service base URL, or a full webhook URL.
    #[arg(long, default_value = "http://127.0.0.1:8080")]
    pub url: String,
    /// GHL: Ed25519 private key to sign with (PKCS#8 PEM, a file holding it, or base64 seed).
    /// Its public half must be the service's BRIDGE_GHL_WEBHOOK_PUBLIC_KEY.
    #[arg(long, env = "BRIDGE_TEST_GHL_PRIVATE_KEY", hide_env_values = true)]
    pub key: Option<String>,
    /// Tovuti: the `whsec_…` secret to sign with.
    #[arg(long, env = "BRIDGE_TOVUTI_WEBHOOK_SECRET", hide_env_values = true)]
    pub secret: Option<String>,
    /// Tovuti: sign with `X-Signature: sha256=…` instead of Standard Webhooks.
    #[arg(long)]
    pub simple: bool,
    /// Tovuti: post to /webhooks/tovuti/CONNECTION.
    #[arg(long)]
    pub connection: Option<String>,
    /// GHL: the location id put in the sample.
    #[arg(
        long,
        env = "BRIDGE_GHL_LOCATION_ID",
        default_value = "sample-location"
    )]
    pub location: String,
    /// Print the request (with curl syntax) instead of sending it.
    #[arg(long)]
    pub dry_run: bool,
}

/// A signed request, ready to send.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct TestRequest {
    pub url: String,
    pub headers: Vec<(&'static str, String)>,
    pub body: String,
}

/// Runs the command; a failure is printed and exits 1.
pub async fn main(args: SendTestEventArgs) -> ExitCode {
    match run(args).await {
        Ok(()) => ExitCode::SUCCESS,
        Err(error) => {
            eprintln!("error: {error:#}");
            ExitCode::FAILURE
        }
    }
}

pub async fn run(args: SendTestEventArgs) -> anyhow::Result<()> {
    let request = build(&args, Timestamp::now())?;
    if args.dry_run {
        println!("{}", request.to_curl());
        return Ok(());
    }
    let mut http = reqwest::Client::new()
        .post(&request.url)
        .body(request.body.clone());
    for (name, value) in &request.headers {
        http = http.header(*name, value);
    }
    let response = http
        .send()
        .await
        .with_context(|| format!("posting to {}", request.url))?;
    let status = response.status();
    let text = response.text().await.unwrap_or_default();
    println!("{status} {text}");
    if !status.is_success() {
        bail!("the service answered {status}");
    }
    Ok(())
}

/// Builds the signed request; pure apart from the key file it may read.
pub fn build(args: &SendTestEventArgs, now: Timestamp) -> anyhow::Result<TestRequest> {
    let id = format!("test_{}", uuid::Uuid::now_v7().simple());
    match args.platform {
        Platform::Ghl => {
            let key = load_signing_key(args.key.as_deref().context(
                "--key is required for GHL: an Ed25519 private key whose public half is \
                 BRIDGE_GHL_WEBHOOK_PUBLIC_KEY (GHL's own private key is not public)",
            )?)?;
            let body = samples::ghl(&args.event_type, &args.location, &id, now).to_string();
            let signature = STANDARD.encode(key.sign(body.as_bytes()).to_bytes());
            let headers = vec![("content-type", json()), ("x-ghl-signature", signature)];
            Ok(TestRequest {
                url: webhook_url(&args.url, "/webhooks/ghl"),
                headers,
                body,
            })
        }
        Platform::Tovuti => {
            let secret = args
                .secret
                .as_deref()
                .context("--secret (or BRIDGE_TOVUTI_WEBHOOK_SECRET) is required")?;
            let secret = WebhookSecret::parse(secret)?;
            let body = samples::tovuti(&args.event_type, &id, now).to_string();
            let headers = if args.simple {
                vec![
                    ("content-type", json()),
                    ("x-signature", secret.sign_simple(body.as_bytes())),
                ]
            } else {
                let signature = secret.sign(&id, now.as_second(), body.as_bytes());
                vec![
                    ("content-type", json()),
                    ("webhook-id", id),
                    ("webhook-timestamp", now.as_second().to_string()),
                    ("webhook-signature", signature),
                ]
            };
            let path = match &args.connection {
                Some(connection) => format!("/webhooks/tovuti/{connection}"),
                None => "/webhooks/tovuti".to_owned(),
            };
            Ok(TestRequest {
                url: webhook_url(&args.url, &path),
                headers,
                body,
            })
        }
    }
}

fn json() -> String {
    "application/json".to_owned()
}

/// A base URL gets the webhook path appended; a URL that already names one is kept.
fn webhook_url(url: &str, path: &str) -> String {
    if url.contains("/webhooks/") {
        url.to_owned()
    } else {
        format!("{}{path}", url.trim_end_matches('/'))
    }
}

fn load_signing_key(text: &str) -> anyhow::Result<ed25519_dalek::SigningKey> {
    let text = if Path::new(text).is_file() {
        std::fs::read_to_string(text).with_context(|| format!("reading key file {text}"))?
    } else {
        text.replace("\\n", "\n")
    };
    let text = text.trim();
    if text.starts_with("-----BEGIN") {
        return ed25519_dalek::SigningKey::from_pkcs8_pem(text)
            .context("not an Ed25519 PKCS#8 PEM private key");
    }
    let seed: [u8; 32] = STANDARD
        .decode(text)
        .ok()
        .and_then(|bytes| bytes.try_into().ok())
        .context("the key is neither PEM nor base64 of a 32-byte Ed25519 seed")?;
    Ok(ed25519_dalek::SigningKey::from_bytes(&seed))
}

impl TestRequest {
    /// The same request as a copy-pasteable curl command.
    pub fn to_curl(&self) -> String {
        let mut line = format!("curl -sS -i '{}'", self.url);
        for (name, value) in &self.headers {
            line.push_str(&format!(" \\\n  -H '{name}: {value}'"));
        }
        line.push_str(&format!(
            " \\\n  --data-binary '{}'",
            self.body.replace('\'', "'\\''")
        ));
        line
    }
}

#[cfg(test)]
#[path = "send_test_event_tests.rs"]
mod tests;
