//! The real binary against the in-process fakes: `serve` and `backfill` started on one
//! store (a scratch database, see `common::database`), configured only through `BRIDGE_*`
//! variables, and read back through `/metrics`, the fakes and the store it writes.

use std::collections::HashMap;
use std::process::{Output, Stdio};
use std::time::{Duration, Instant};

use tokio::process::{Child, Command};
use tovuti_ghl_bridge::sandbox::ghl::FakeGhl;
use tovuti_ghl_bridge::sandbox::tovuti::FakeTovuti;
use tovuti_ghl_bridge::store::Cipher;

pub use crate::common::Backend;
use crate::common::fakes::{ghl_env, roomy_ghl, tovuti_env};
use crate::common::{ScratchDb, free_port};

const BIN: &str = env!("CARGO_BIN_EXE_tovuti-ghl-bridge");
pub const LOCATION: &str = "loc_e2e";
const TOVUTI_TOKEN: &str = "tovuti-e2e-token";
/// Bounds the wait for `serve` to answer `/readyz`.
const START_LIMIT: Duration = Duration::from_secs(30);

/// The fakes the binary talks to: a GHL whose quota never limits a test, and a Tovuti
/// tenant holding the example catalog the shipped mapping names.
pub struct Fakes {
    pub ghl: FakeGhl,
    pub tovuti: FakeTovuti,
}

impl Fakes {
    pub async fn start() -> Self {
        let ghl = FakeGhl::start(roomy_ghl()).await.unwrap();
        let tovuti = FakeTovuti::start(TOVUTI_TOKEN).await.unwrap();
        tovuti.insert_example_catalog();
        Self { ghl, tovuti }
    }

    /// The contacts whose email is `email`.
    pub fn contacts_with(&self, email: &str) -> Vec<serde_json::Value> {
        self.ghl
            .contacts()
            .into_iter()
            .filter(|c| c["email"] == email)
            .collect()
    }

    /// How many contacts each email has.
    pub fn contacts_by_email(&self) -> HashMap<String, usize> {
        let mut counts = HashMap::new();
        for contact in self.ghl.contacts() {
            let email = contact["email"].as_str().unwrap_or_default().to_owned();
            *counts.entry(email).or_insert(0) += 1;
        }
        counts
    }
}

/// How to start the binary: every run uses the same store and settings.
pub struct Binary {
    db: ScratchDb,
    port: u16,
    env: Vec<(String, String)>,
    http: reqwest::Client,
}

impl Binary {
    /// The binary on `backend`; `None` for PostgreSQL without `TEST_DATABASE_URL`.
    pub async fn new(fakes: &Fakes, backend: Backend) -> Option<Self> {
        let db = ScratchDb::on(backend).await?;
        let port = free_port();
        let mut env = vec![
            ("BRIDGE_DATABASE_URL", db.url().to_owned()),
            ("BRIDGE_LISTEN", format!("127.0.0.1:{port}")),
            ("BRIDGE_TELEMETRY__LOG_FORMAT", "json".to_owned()),
            ("BRIDGE_ENCRYPTION_KEY", Cipher::generate_key()),
            ("BRIDGE_GHL__RATE_LIMIT_MAX", "100000".to_owned()),
            ("BRIDGE_WORKER__POLL_INTERVAL_MS", "20".to_owned()),
            ("BRIDGE_POLLER__REQUESTS_PER_SECOND", "0".to_owned()),
        ];
        env.extend(ghl_env(&fakes.ghl, LOCATION));
        env.extend(tovuti_env(&fakes.tovuti, TOVUTI_TOKEN));
        let http = reqwest::Client::builder()
            .timeout(Duration::from_secs(5))
            .build()
            .unwrap();
        Some(Self {
            db,
            port,
            env: env.into_iter().map(|(k, v)| (k.to_owned(), v)).collect(),
            http,
        })
    }

    /// Drops a PostgreSQL test database.
    pub async fn finish(self) {
        self.db.remove().await;
    }

    /// Sets (or overrides) one setting for the runs that follow.
    pub fn set(&mut self, key: &str, value: impl Into<String>) {
        self.env.retain(|(k, _)| k != key);
        self.env.push((key.to_owned(), value.into()));
    }

    fn command(&self, args: &[&str]) -> Command {
        let mut command = Command::new(BIN);
        command
            .env_clear()
            .env("PATH", std::env::var("PATH").unwrap_or_default())
            .envs(self.env.iter().map(|(k, v)| (k, v)))
            .current_dir(self.db.dir())
            .args(args)
            .kill_on_drop(true);
        command
    }

    /// Starts `serve` (logs to `serve.log` next to the store) and waits for `/readyz`.
    pub async fn serve(&self) -> Child {
        let log = std::fs::OpenOptions::new()
            .create(true)
            .append(true)
            .open(self.db.dir().join("serve.log"))
            .unwrap();
        let mut child = self
            .command(&["serve"])
            .stdout(log.try_clone().unwrap())
            .stderr(log)
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

    /// Stops a `serve` the way an orchestrator does, and checks it ends cleanly.
    pub async fn stop(&self, mut child: Child) {
        signal(&child, "-TERM").await;
        let status = child.wait().await.unwrap();
        assert_eq!(status.code(), Some(0), "serve ended badly:\n{}", self.log());
    }

    /// Runs `backfill` with `args` to its end (stdout and stderr piped, so not a TTY).
    pub async fn backfill(&self, args: &[&str]) -> Output {
        let mut all = vec!["backfill"];
        all.extend_from_slice(args);
        self.command(&all).output().await.unwrap()
    }

    /// Starts `backfill` with `args`, its stdout piped for the caller to read.
    pub fn spawn_backfill(&self, args: &[&str]) -> Child {
        let mut all = vec!["backfill"];
        all.extend_from_slice(args);
        self.command(&all)
            .stdout(Stdio::piped())
            .stderr(Stdio::piped())
            .spawn()
            .unwrap()
    }

    fn base(&self) -> String {
        format!("http://127.0.0.1:{}", self.port)
    }

    /// What `serve` logged so far.
    pub fn log(&self) -> String {
        std::fs::read_to_string(self.db.dir().join("serve.log")).unwrap_or_default()
    }

    /// The sum of the samples of metric `name` whose labels contain every one of `labels`.
    pub async fn metric(&self, name: &str, labels: &[&str]) -> f64 {
        let text = self
            .http
            .get(format!("{}/metrics", self.base()))
            .send()
            .await
            .unwrap()
            .text()
            .await
            .unwrap();
        text.lines()
            .filter(|l| l.starts_with(&format!("{name}{{")))
            .filter(|l| labels.iter().all(|label| l.contains(label)))
            .filter_map(|l| l.rsplit(' ').next()?.parse::<f64>().ok())
            .sum()
    }

    /// Rows of (text, count) that `sql` selects from the binary's store.
    async fn rows(&self, sql: &str) -> Vec<(String, i64)> {
        self.db.fetch_all(sql).await
    }

    /// The one count `sql` selects from the binary's store.
    async fn count(&self, sql: &str) -> i64 {
        let (count,): (i64,) = self.db.fetch_one(sql).await;
        count
    }

    /// The poller's (and backfill's) events by type.
    pub async fn polled_events(&self) -> HashMap<String, i64> {
        let sql = "SELECT event_type, COUNT(*) FROM inbox_events WHERE source = 'poller' \
                   GROUP BY event_type";
        self.rows(sql).await.into_iter().collect()
    }

    /// How many (type, entity) pairs have more than one poller event.
    pub async fn duplicated_events(&self) -> i64 {
        self.count(
            "SELECT COUNT(*) FROM (SELECT 1 FROM inbox_events WHERE source = 'poller' \
             GROUP BY event_type, entity_key HAVING COUNT(*) > 1) AS duplicated",
        )
        .await
    }

    /// Events not yet finished (pending, retrying, processing).
    pub async fn open_events(&self) -> i64 {
        self.count(
            "SELECT COUNT(*) FROM inbox_events \
             WHERE status IN ('pending', 'retrying', 'processing')",
        )
        .await
    }

    /// Poller events that did not end `done`, by status (empty when all did).
    pub async fn unfinished_or_failed(&self) -> HashMap<String, i64> {
        let sql = "SELECT status, COUNT(*) FROM inbox_events \
                   WHERE source = 'poller' AND status <> 'done' GROUP BY status";
        self.rows(sql).await.into_iter().collect()
    }
}

/// Sends `signal` (like `-INT`) to a child process.
pub async fn signal(child: &Child, signal: &str) {
    let pid = child.id().unwrap().to_string();
    let sent = Command::new("kill")
        .args([signal, &pid])
        .status()
        .await
        .unwrap();
    assert!(sent.success());
}

/// Polls `condition` every 100 ms until it holds; panics with `what` (and the `detail`
/// it gives then) once `limit` passed. Returns how long it took.
pub async fn within<F, Fut>(limit: Duration, what: &str, mut condition: F) -> Duration
where
    F: FnMut() -> Fut,
    Fut: std::future::Future<Output = Result<(), String>>,
{
    let began = Instant::now();
    loop {
        let outcome = condition().await;
        match outcome {
            Ok(()) => return began.elapsed(),
            Err(detail) if began.elapsed() >= limit => {
                panic!("{what} did not happen within {limit:?}: {detail}")
            }
            Err(_) => tokio::time::sleep(Duration::from_millis(100)).await,
        }
    }
}

impl Drop for Binary {
    /// A failing test shows what `serve` logged last, and the poller's events.
    fn drop(&mut self) {
        if std::thread::panicking() {
            let log = self.log();
            let tail: Vec<&str> = log.lines().rev().take(60).collect();
            eprintln!(
                "serve's last log lines (newest first):\n{}",
                tail.join("\n")
            );
        }
    }
}
