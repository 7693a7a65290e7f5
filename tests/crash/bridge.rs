//! The binary under test: started on one SQLite file and port, fed signed webhooks,
//! killed with SIGKILL and started again, and its inbox read until it drains.

use std::collections::HashMap;
use std::str::FromStr as _;
use std::time::{Duration, Instant};

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::pkcs8::EncodePublicKey as _;
use ed25519_dalek::pkcs8::spki::der::pem::LineEnding;
use ed25519_dalek::{Signer as _, SigningKey};
use jiff::Timestamp;
use rand::Rng as _;
use rand::rngs::StdRng;
use sqlx::sqlite::SqliteConnectOptions;
use tempfile::TempDir;
use tokio::process::{Child, Command};
use tovuti_ghl_bridge::platforms::tovuti::WebhookSecret;
use tovuti_ghl_bridge::sandbox::ghl::FakeGhl;
use tovuti_ghl_bridge::store::Cipher;

use crate::common::fakes::ghl_env;
use crate::common::free_port;

const BIN: &str = env!("CARGO_BIN_EXE_tovuti-ghl-bridge");
pub const LOCATION: &str = "loc_crash";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA=";
/// A refused or cut delivery is sent again after this, as a sender retries.
const RESEND_PAUSE: Duration = Duration::from_millis(100);
/// Every wait is bounded: one start, the drain (the caller bounds the stream).
const START_LIMIT: Duration = Duration::from_secs(30);
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

/// Who sends a webhook, which decides its route and signature.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Sender {
    /// Standard Webhooks to `/webhooks/tovuti`.
    Tovuti,
    /// `X-GHL-Signature` (Ed25519) to `/webhooks/ghl`.
    Ghl,
}

/// One webhook: its delivery id and body.
pub struct Event {
    pub id: String,
    pub body: String,
    pub sender: Sender,
}

/// How to start the binary; every start uses the same database file and port, so a
/// restart finds what the killed process left and the sender keeps its address.
pub struct Bridge {
    dir: TempDir,
    port: u16,
    env: Vec<(&'static str, String)>,
    http: reqwest::Client,
    /// Signs GHL deliveries; the binary is given its public half.
    ghl_key: SigningKey,
}

impl Bridge {
    /// The binary against `ghl`, with `extra` settings added to (or overriding) the
    /// crash test's own.
    pub fn with(ghl: &FakeGhl, extra: Vec<(&'static str, String)>) -> Self {
        let mut bridge = Self::new(ghl);
        bridge.env.extend(extra);
        bridge
    }

    pub fn new(ghl: &FakeGhl) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = free_port();
        let mut env = vec![
            (
                "BRIDGE_DATABASE_URL",
                format!("sqlite://{}/bridge.db", dir.path().display()),
            ),
            ("BRIDGE_LISTEN", format!("127.0.0.1:{port}")),
            ("BRIDGE_TELEMETRY__LOG_FORMAT", "json".to_owned()),
            ("BRIDGE_ENCRYPTION_KEY", Cipher::generate_key()),
            ("BRIDGE_TOVUTI_WEBHOOK_SECRET", SECRET.to_owned()),
            // A restarted process reclaims the killed one's leases within seconds.
            ("BRIDGE_WORKER__LEASE_SECS", "2".to_owned()),
            ("BRIDGE_WORKER__POLL_INTERVAL_MS", "20".to_owned()),
            ("BRIDGE_WORKER__CONCURRENCY", "8".to_owned()),
            (
                "BRIDGE_WORKER__RETRY_SCHEDULE_SECS",
                "[1, 1, 1, 1, 1, 1, 1, 1, 1, 1]".to_owned(),
            ),
        ];
        env.extend(ghl_env(ghl, LOCATION));
        let ghl_key = SigningKey::from_bytes(&rand::random());
        let public = ghl_key.verifying_key().to_public_key_pem(LineEnding::LF);
        env.push(("BRIDGE_GHL_WEBHOOK_PUBLIC_KEY", public.unwrap()));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        Self {
            dir,
            port,
            env,
            http,
            ghl_key,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts `serve` (logs appended to `bridge.log` next to the database) and waits
    /// until it answers `/readyz`.
    pub async fn start(&self) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.dir.path().join("bridge.log"))
            .unwrap();
        let mut child = Command::new(BIN)
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.dir.path())
            .arg("serve")
            .stdout(log.try_clone().unwrap())
            .stderr(log)
            .kill_on_drop(true)
            .spawn()
            .unwrap();
        let deadline = Instant::now() + START_LIMIT;
        let ready = format!("{}/readyz", self.base());
        loop {
            assert!(child.try_wait().unwrap().is_none(), "serve exited at start");
            if let Ok(answer) = self.http.get(&ready).send().await
                && answer.status().is_success()
            {
                return child;
            }
            assert!(Instant::now() < deadline, "serve never became ready");
            tokio::time::sleep(Duration::from_millis(50)).await;
        }
    }

    /// Posts `event` until it is answered 2xx; how many tries that took, or `None` if
    /// `deadline` passed first.
    pub async fn deliver(&self, event: &Event, deadline: Instant) -> Option<u32> {
        let mut tries = 0;
        while Instant::now() < deadline {
            tries += 1;
            let answer = self.signed(event).send().await;
            if answer.is_ok_and(|a| a.status().is_success()) {
                return Some(tries);
            }
            tokio::time::sleep(RESEND_PAUSE).await;
        }
        None
    }

    /// One delivery of `event`, signed as its sender signs.
    fn signed(&self, event: &Event) -> reqwest::RequestBuilder {
        let route = match event.sender {
            Sender::Tovuti => "tovuti",
            Sender::Ghl => "ghl",
        };
        let request = self
            .http
            .post(format!("{}/webhooks/{route}", self.base()))
            .header("content-type", "application/json")
            .body(event.body.clone());
        match event.sender {
            Sender::Tovuti => {
                let secret = WebhookSecret::parse(SECRET).unwrap();
                let timestamp = Timestamp::now().as_second();
                let signature = secret.sign(&event.id, timestamp, event.body.as_bytes());
                request
                    .header("webhook-id", &event.id)
                    .header("webhook-timestamp", timestamp.to_string())
                    .header("webhook-signature", signature)
            }
            Sender::Ghl => {
                let signature = self.ghl_key.sign(event.body.as_bytes()).to_bytes();
                request.header("x-ghl-signature", STANDARD.encode(signature))
            }
        }
    }

    /// Kills the running binary with SIGKILL `kills` times at random moments, starting
    /// it again after each; returns the last one started and when each kill came
    /// (seconds since `began`).
    pub async fn kill_at_random(
        &self,
        kills: usize,
        mut child: Child,
        rng: &mut StdRng,
        began: Instant,
    ) -> (Child, Vec<f64>) {
        let mut moments = Vec::with_capacity(kills);
        for kill in 0..kills {
            // The first kill comes while the webhooks still arrive (about 2 s here), so
            // intake is cut too; the rest land anywhere in the processing.
            let longest = if kill == 0 { 1200 } else { 2500 };
            let uptime = Duration::from_millis(rng.gen_range(200..longest));
            tokio::time::sleep(uptime).await;
            child.start_kill().unwrap();
            moments.push(began.elapsed().as_secs_f64());
            child.wait().await.unwrap();
            child = self.start().await;
        }
        (child, moments)
    }

    /// Waits until no event is pending, retrying or processing, reading the SQLite file
    /// the binary writes.
    pub async fn drained(&self) -> Inbox {
        let url = format!("sqlite://{}/bridge.db", self.dir.path().display());
        let options = SqliteConnectOptions::from_str(&url)
            .unwrap()
            .read_only(true);
        let pool = sqlx::SqlitePool::connect_with(options).await.unwrap();
        let deadline = Instant::now() + DRAIN_LIMIT;
        loop {
            let rows: Vec<(String, i64)> =
                sqlx::query_as("SELECT status, COUNT(*) FROM inbox_events GROUP BY status")
                    .fetch_all(&pool)
                    .await
                    .unwrap();
            let statuses: HashMap<String, i64> = rows.into_iter().collect();
            let open = ["pending", "retrying", "processing"]
                .iter()
                .any(|s| statuses.get(*s).is_some_and(|n| *n > 0));
            if !open {
                let count = |sql: &'static str| sqlx::query_scalar(sql).fetch_one(&pool);
                let inbox = Inbox {
                    statuses,
                    retaken: count(RETAKEN).await.unwrap(),
                    reconciled: count(RECONCILED).await.unwrap(),
                    adopted: count(ADOPTED).await.unwrap(),
                    unknown: count(UNKNOWN).await.unwrap(),
                    dead: sqlx::query_as(DEAD).fetch_all(&pool).await.unwrap(),
                };
                pool.close().await;
                return inbox;
            }
            if Instant::now() >= deadline {
                let log =
                    std::fs::read_to_string(self.dir.path().join("bridge.log")).unwrap_or_default();
                let tail: Vec<&str> = log.lines().rev().take(40).collect();
                panic!(
                    "the inbox never drained: {statuses:?}\nlast log lines (newest first):\n{}",
                    tail.join("\n")
                );
            }
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The drained inbox.
pub struct Inbox {
    /// Events by final status.
    pub statuses: HashMap<String, i64>,
    /// Events claimed more than once: a kill cut their processing short.
    pub retaken: i64,
    /// Attempts that reconciled a note a killed attempt had started (the engine lists a
    /// contact's notes only then).
    pub reconciled: i64,
    /// Of those, the ones that found the note already made: the kill came after GHL
    /// made it and before the action log recorded it done.
    pub adopted: i64,
    /// Attempts that ended with a create whose outcome was unknown (its answer lost).
    pub unknown: i64,
    /// Each dead event's type and last error, so a failure says why it died.
    pub dead: Vec<(String, Option<String>)>,
}

const UNKNOWN: &str = "SELECT COUNT(*) FROM event_attempts WHERE error LIKE '%outcome unknown%'";
const DEAD: &str = "SELECT event_type, last_error FROM inbox_events WHERE status = 'dead'";
const RETAKEN: &str = "SELECT COUNT(*) FROM inbox_events WHERE attempts > 1";
const RECONCILED: &str = "SELECT COUNT(*) FROM event_attempts a WHERE EXISTS \
     (SELECT 1 FROM json_each(a.requests) r WHERE r.value ->> 'method' = 'GET' \
        AND r.value ->> 'path' LIKE '%/notes')";
const ADOPTED: &str = "SELECT COUNT(*) FROM event_attempts a WHERE EXISTS \
     (SELECT 1 FROM json_each(a.requests) r WHERE r.value ->> 'method' = 'GET' \
        AND r.value ->> 'path' LIKE '%/notes') \
     AND NOT EXISTS (SELECT 1 FROM json_each(a.requests) r WHERE r.value ->> 'method' = 'POST' \
        AND r.value ->> 'path' LIKE '%/notes')";
