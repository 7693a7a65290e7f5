//! Crash test: the real binary takes 2,000 signed Tovuti webhooks over 200 users while it
//! is killed with SIGKILL at random moments and restarted on the same SQLite file. Once
//! the inbox drains, every webhook answered 2xx must have made exactly one note at the
//! fake GHL (none lost, none doubled), and no note may lack an acknowledged webhook.
//! The kill moments come from a seed (`CRASH_SEED`, printed) to reproduce a run.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::collections::{HashMap, HashSet};
use std::str::FromStr as _;
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use jiff::Timestamp;
use rand::rngs::StdRng;
use rand::{Rng as _, SeedableRng as _};
use serde_json::json;
use sqlx::sqlite::SqliteConnectOptions;
use tempfile::TempDir;
use tokio::process::{Child, Command};
use tovuti_ghl_bridge::cli::samples;
use tovuti_ghl_bridge::platforms::tovuti::WebhookSecret;
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings, Limits};
use tovuti_ghl_bridge::store::Cipher;

const BIN: &str = env!("CARGO_BIN_EXE_tovuti-ghl-bridge");
const LOCATION: &str = "loc_crash";
const SECRET: &str = "whsec_MfKQ9r8GKYqrTwjUPD8ILPZIo2LaLaSwAAAAAAAAAAA=";
const USERS: usize = 200;
const EVENTS_PER_USER: usize = 10;
/// Deliveries in flight at once, as a busy sender would have.
const IN_FLIGHT: usize = 24;
const KILLS: usize = 5;
/// Each note's text carries this followed by the id of the webhook behind it.
const MARK: &str = "crash-effect-";
/// A refused or cut delivery is sent again after this, as a sender retries.
const RESEND_PAUSE: Duration = Duration::from_millis(100);
/// Every wait is bounded: the whole stream (resends included), one start, the drain.
const STREAM_LIMIT: Duration = Duration::from_secs(90);
const START_LIMIT: Duration = Duration::from_secs(30);
const DRAIN_LIMIT: Duration = Duration::from_secs(120);

/// One webhook: its delivery id and signed body.
struct Event {
    id: String,
    body: String,
}

/// How to start the binary; every start uses the same database file and port, so a
/// restart finds what the killed process left and the sender keeps its address.
struct Bridge {
    dir: TempDir,
    port: u16,
    env: Vec<(&'static str, String)>,
    http: reqwest::Client,
}

impl Bridge {
    fn new(ghl: &FakeGhl) -> Self {
        let dir = tempfile::tempdir().unwrap();
        let port = std::net::TcpListener::bind("127.0.0.1:0")
            .unwrap()
            .local_addr()
            .unwrap()
            .port();
        let env = vec![
            (
                "BRIDGE_DATABASE_URL",
                format!("sqlite://{}/bridge.db", dir.path().display()),
            ),
            ("BRIDGE_LISTEN", format!("127.0.0.1:{port}")),
            ("BRIDGE_TELEMETRY__LOG_FORMAT", "json".to_owned()),
            ("BRIDGE_ENCRYPTION_KEY", Cipher::generate_key()),
            ("BRIDGE_GHL_BASE_URL", ghl.base_url()),
            ("BRIDGE_GHL_LOCATION_ID", LOCATION.to_owned()),
            ("BRIDGE_GHL_TOKEN", ghl.issue_token(LOCATION, ALL_SCOPES)),
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
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        Self {
            dir,
            port,
            env,
            http,
        }
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// Starts `serve` (logs appended to `bridge.log` next to the database) and waits
    /// until it answers `/readyz`.
    async fn start(&self) -> Child {
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
    async fn deliver(&self, event: &Event, deadline: Instant) -> Option<u32> {
        let url = format!("{}/webhooks/tovuti", self.base());
        let secret = WebhookSecret::parse(SECRET).unwrap();
        let mut tries = 0;
        while Instant::now() < deadline {
            tries += 1;
            let timestamp = Timestamp::now().as_second();
            let signature = secret.sign(&event.id, timestamp, event.body.as_bytes());
            let answer = self
                .http
                .post(&url)
                .header("content-type", "application/json")
                .header("webhook-id", &event.id)
                .header("webhook-timestamp", timestamp.to_string())
                .header("webhook-signature", signature)
                .body(event.body.clone())
                .send()
                .await;
            if answer.is_ok_and(|a| a.status().is_success()) {
                return Some(tries);
            }
            tokio::time::sleep(RESEND_PAUSE).await;
        }
        None
    }

    /// Kills the running binary with SIGKILL `KILLS` times at random moments, starting
    /// it again after each; returns the last one started and when each kill came
    /// (seconds since `began`).
    async fn kill_at_random(
        &self,
        mut child: Child,
        rng: &mut StdRng,
        began: Instant,
    ) -> (Child, Vec<f64>) {
        let mut moments = Vec::with_capacity(KILLS);
        for kill in 0..KILLS {
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
    async fn drained(&self) -> Inbox {
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
                };
                pool.close().await;
                return inbox;
            }
            assert!(
                Instant::now() < deadline,
                "the inbox never drained: {statuses:?}"
            );
            tokio::time::sleep(Duration::from_millis(200)).await;
        }
    }
}

/// The drained inbox.
struct Inbox {
    /// Events by final status.
    statuses: HashMap<String, i64>,
    /// Events claimed more than once: a kill cut their processing short.
    retaken: i64,
    /// Attempts that reconciled a note a killed attempt had started (the engine lists a
    /// contact's notes only then).
    reconciled: i64,
    /// Of those, the ones that found the note already made: the kill came after GHL
    /// made it and before the action log recorded it done.
    adopted: i64,
}

const RETAKEN: &str = "SELECT COUNT(*) FROM inbox_events WHERE attempts > 1";
const RECONCILED: &str = "SELECT COUNT(*) FROM event_attempts a WHERE EXISTS \
     (SELECT 1 FROM json_each(a.requests) r WHERE r.value ->> 'method' = 'GET' \
        AND r.value ->> 'path' LIKE '%/notes')";
const ADOPTED: &str = "SELECT COUNT(*) FROM event_attempts a WHERE EXISTS \
     (SELECT 1 FROM json_each(a.requests) r WHERE r.value ->> 'method' = 'GET' \
        AND r.value ->> 'path' LIKE '%/notes') \
     AND NOT EXISTS (SELECT 1 FROM json_each(a.requests) r WHERE r.value ->> 'method' = 'POST' \
        AND r.value ->> 'path' LIKE '%/notes')";

/// Ten `note.created` webhooks per user, interleaved across users, each note's text
/// naming its webhook so every effect is attributable.
fn events() -> Vec<Event> {
    let mut events = Vec::with_capacity(USERS * EVENTS_PER_USER);
    for n in 0..EVENTS_PER_USER {
        for user in 0..USERS {
            let id = format!("evt-crash-{user:03}-{n:02}");
            let mut body = samples::tovuti("note.created", &id, Timestamp::now());
            body["data"]["user"]["id"] = json!(10_000 + user);
            body["data"]["user"]["email"] = json!(format!("crash-{user}@example.com"));
            body["data"]["note"]["id"] = json!(user * EVENTS_PER_USER + n);
            body["data"]["note"]["body"] = json!(format!("{MARK}{id}"));
            events.push(Event {
                id,
                body: body.to_string(),
            });
        }
    }
    events
}

/// Every note at the fake, counted by the webhook id its text names.
fn effects(ghl: &FakeGhl) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    for contact in ghl.contacts() {
        let contact = contact["id"].as_str().unwrap_or_default().to_owned();
        for note in ghl.activities("notes", &contact) {
            let text = note["body"].as_str().unwrap_or_default();
            let id = text
                .split(MARK)
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or("(unmarked)");
            *seen.entry(id.to_owned()).or_insert(0) += 1;
        }
    }
    seen
}

/// The settings the fake GHL is started with: a quota it never runs out of, so the
/// test measures crash safety, not the throttle.
fn roomy_ghl() -> FakeSettings {
    FakeSettings {
        limits: Limits {
            burst_max: 1_000_000,
            interval: Duration::from_secs(10),
            daily_max: 10_000_000,
        },
        ..FakeSettings::default()
    }
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_webhook_has_exactly_one_effect_across_kill_9_restarts() {
    let seed = std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>);
    let mut rng = StdRng::seed_from_u64(seed);
    let began = Instant::now();
    let ghl = FakeGhl::start(roomy_ghl()).await.unwrap();
    let bridge = Bridge::new(&ghl);
    let events = events();

    // Arrange: the binary running. Act: stream every webhook while it is killed.
    let child = bridge.start().await;
    let deadline = Instant::now() + STREAM_LIMIT;
    let sender = &bridge;
    let stream = futures::stream::iter(&events)
        .map(|event| async move { (event, sender.deliver(event, deadline).await) })
        .buffer_unordered(IN_FLIGHT)
        .collect::<Vec<_>>();
    let stream = async {
        let answers = stream.await;
        (answers, began.elapsed().as_secs_f64())
    };
    let kills = bridge.kill_at_random(child, &mut rng, began);
    let ((answers, streamed), (mut child, moments)) = tokio::join!(stream, kills);
    let acknowledged: HashSet<&str> = answers
        .iter()
        .filter(|(_, tries)| tries.is_some())
        .map(|(event, _)| event.id.as_str())
        .collect();
    let resent = answers
        .iter()
        .filter(|(_, t)| t.is_some_and(|n| n > 1))
        .count();
    let inbox = bridge.drained().await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    // Assert: one effect per acknowledged webhook, none without one.
    let seen = effects(&ghl);
    let effects: usize = seen.values().sum();
    let lost = acknowledged
        .iter()
        .filter(|id| !seen.contains_key(**id))
        .count();
    let duplicated: usize = seen.values().map(|n| n.saturating_sub(1)).sum();
    let stray: Vec<&String> = seen
        .keys()
        .filter(|id| !acknowledged.contains(id.as_str()))
        .collect();
    println!(
        "crash test: {} sent, {} acknowledged ({resent} after a resend), {KILLS} kills (at {moments:.1?} s; stream ended at {streamed:.1} s), \
         {effects} effects, {lost} lost, {duplicated} duplicated, {} unacknowledged; \
         {} events retaken after a kill, {} unfinished notes reconciled ({} already made, adopted) \
         (seed {seed}, {:.1} s)",
        events.len(),
        acknowledged.len(),
        stray.len(),
        inbox.retaken,
        inbox.reconciled,
        inbox.adopted,
        began.elapsed().as_secs_f64(),
    );
    let doubled: Vec<_> = seen.iter().filter(|(_, n)| **n > 1).take(10).collect();
    assert_eq!(
        lost, 0,
        "lost effects (seed {seed}); inbox: {:?}",
        inbox.statuses
    );
    assert_eq!(
        duplicated, 0,
        "duplicated effects (seed {seed}): {doubled:?}"
    );
    assert!(
        stray.is_empty(),
        "effects without a 2xx (seed {seed}): {stray:?}"
    );
    assert_eq!(
        acknowledged.len(),
        events.len(),
        "the sender gave up on some"
    );
    let dead = inbox.statuses.get("dead");
    assert_eq!(dead, None, "dead events: {:?}", inbox.statuses);
}
