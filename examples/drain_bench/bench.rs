//! The service on a fresh store (SQLite or a PostgreSQL database of its own) beside the
//! fakes, and the events the drain feeds it.

use std::time::Duration;

use futures::StreamExt as _;
use jiff::Timestamp;
use serde_json::{Value, json};
use sqlx::Connection as _;
use tempfile::TempDir;
use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::config::DEFAULT_CONNECTION;
use tovuti_ghl_bridge::config::{Config, DatabaseUrl, OptionalSecret};
use tovuti_ghl_bridge::http::AppState;
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings, Limits};
use tovuti_ghl_bridge::sandbox::samples;
use tovuti_ghl_bridge::sandbox::tovuti::FakeTovuti;
use tovuti_ghl_bridge::startup;
use tovuti_ghl_bridge::store::{Cipher, EventStatus, Millis, NewEvent, Source};

const LOCATION: &str = "bench-location";
const TOVUTI_TOKEN: &str = "7|bench-token";
/// Concurrent `record_event` calls while filling the inbox (they share commits).
const FILL_WRITERS: usize = 256;

/// The service's state on a fresh store with the default connection pointing at the
/// fakes; GHL's quota is lifted on both sides (the fake and the client's throttle).
pub(crate) struct Bench {
    pub(crate) state: AppState,
    /// What the first replica was built from, for more of them.
    config: Config,
    pub(crate) ghl: FakeGhl,
    pub(crate) tovuti: FakeTovuti,
    _dir: TempDir,
    /// The store's URL, to read what the `Store` interface does not show.
    url: String,
    postgres: Option<(String, String)>,
}

impl Bench {
    pub(crate) async fn start(backend: &str, concurrency: u32) -> anyhow::Result<Self> {
        let dir = tempfile::tempdir()?;
        let (url, postgres) = match backend {
            "sqlite" => (format!("sqlite://{}/bench.db", dir.path().display()), None),
            "postgres" => {
                let (url, admin, name) = fresh_postgres().await?;
                (url, Some((admin, name)))
            }
            other => anyhow::bail!("unknown backend {other}"),
        };
        let limits = Limits {
            burst_max: u32::MAX,
            interval: Duration::from_millis(1),
            daily_max: u64::MAX,
        };
        let settings = FakeSettings {
            limits,
            ..FakeSettings::default()
        };
        let ghl = FakeGhl::start(settings).await?;
        let tovuti = FakeTovuti::start(TOVUTI_TOKEN).await?;
        let mut config = Config::defaults();
        config.store.url = DatabaseUrl::new(url.clone());
        config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
        config.ghl.base_url = ghl.base_url();
        config.ghl.location_id = LOCATION.to_owned();
        config.ghl.token = OptionalSecret::new(ghl.issue_token(LOCATION, ALL_SCOPES));
        config.ghl.rate_limit_max = u32::MAX;
        config.ghl.rate_limit_interval_ms = 1;
        config.tovuti.base_url = tovuti.base_url();
        config.tovuti.token = OptionalSecret::new(TOVUTI_TOKEN);
        config.worker.enabled = false;
        config.worker.concurrency = concurrency;
        if let Ok(max) = std::env::var("BENCH_WRITE_BATCH_MAX") {
            config.store.write_batch_max = max.parse()?;
        }
        if let Ok(lanes) = std::env::var("BENCH_GROUP_COMMIT_LANES") {
            config.store.group_commit_lanes = lanes.parse()?;
        }
        let state = startup::build_state(config.clone(), CancellationToken::new()).await?;
        startup::prepare_store(&state).await?;
        Ok(Self {
            state,
            config,
            ghl,
            tovuti,
            _dir: dir,
            url: url.clone(),
            postgres,
        })
    }

    /// Another replica of the service on the same database, stopped with the first.
    pub(crate) async fn replica(&self) -> anyhow::Result<AppState> {
        anyhow::ensure!(
            self.postgres.is_some(),
            "replicas share a PostgreSQL database"
        );
        let shutdown = self.state.services.shutdown.clone();
        startup::build_state(self.config.clone(), shutdown).await
    }

    /// Attempts that did not end `done`, by outcome and error (first 60 characters): a
    /// drain that retries is doing work twice.
    pub(crate) async fn failed_attempts(&self) -> anyhow::Result<Vec<(String, String, i64)>> {
        let sql = "SELECT outcome, COALESCE(SUBSTR(error, 1, 60), ''), COUNT(*) FROM event_attempts \
                   WHERE outcome <> 'done' GROUP BY 1, 2 ORDER BY 3 DESC LIMIT 5";
        Ok(if self.postgres.is_some() {
            let pool = sqlx::PgPool::connect(&self.url).await?;
            let rows = sqlx::query_as(sql).fetch_all(&pool).await?;
            pool.close().await;
            rows
        } else {
            let pool = sqlx::SqlitePool::connect(&self.url).await?;
            let rows = sqlx::query_as(sql).fetch_all(&pool).await?;
            pool.close().await;
            rows
        })
    }

    /// Stores `count` events and marks them done: history the drain must not read.
    pub(crate) async fn add_history(&self, count: u64) -> anyhow::Result<()> {
        const CHUNK: u64 = 50_000;
        for first in (0..count).step_by(CHUNK as usize) {
            let chunk = (first..count.min(first + CHUNK)).map(|n| {
                let mut event = tovuti_event("user.updated", &format!("history-{n}"), n, n, None);
                event.status = EventStatus::Done;
                event
            });
            self.record(chunk).await?;
        }
        Ok(())
    }

    /// Records events straight into the inbox, `FILL_WRITERS` at a time.
    pub(crate) async fn record(
        &self,
        events: impl Iterator<Item = NewEvent>,
    ) -> anyhow::Result<()> {
        let store = &self.state.store;
        let mut results = futures::stream::iter(events)
            .map(|event| store.record_event(event))
            .buffer_unordered(FILL_WRITERS);
        while let Some(result) = results.next().await {
            result?;
        }
        Ok(())
    }

    pub(crate) async fn finish(self) -> anyhow::Result<()> {
        self.state.store.close().await;
        if let Some((admin_url, name)) = self.postgres {
            let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
            let drop = format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)");
            sqlx::query(&drop).execute(&mut admin).await?;
        }
        Ok(())
    }
}

/// A Tovuti event about learner `user` as the intake would store it; `edit` renames the
/// learner (`EditN` in the name and the last name) so each edit is a real change.
pub(crate) fn tovuti_event(
    event_type: &str,
    id: &str,
    user: u64,
    note: u64,
    edit: Option<usize>,
) -> NewEvent {
    let mut body = samples::tovuti(event_type, id, Timestamp::now());
    let learner = 100_000 + user;
    let person = &mut body["data"]["user"];
    person["id"] = json!(learner);
    person["email"] = json!(format!("learner{learner}@bench.example"));
    person["username"] = json!(format!("learner{learner}"));
    if let Some(edit) = edit {
        person["name"] = json!(format!("Learner{learner} Edit{edit}"));
        if let Some(fields) = person["customFields"].as_array_mut() {
            for field in fields.iter_mut().filter(|f| f["field_id"] == 20) {
                field["value"] = json!(format!("Edit{edit}"));
            }
        }
    }
    if event_type == "note.created" {
        body["data"]["note"]["id"] = json!(note);
        body["data"]["note"]["body"] = json!(format!("Bench note {id}"));
    }
    NewEvent {
        source: Source::Tovuti,
        connection_id: Some(DEFAULT_CONNECTION.to_owned()),
        external_id: format!("{DEFAULT_CONNECTION}/{id}"),
        event_type: event_type.to_owned(),
        entity_key: Some(format!("tovuti:user:{learner}")),
        headers: json!({ "content-type": "application/json" }),
        body: Value::to_string(&body).into(),
        status: EventStatus::Pending,
        note: None,
        received_at: Millis::now(),
    }
}

/// A new, empty database; returns its URL, the admin URL and its name.
async fn fresh_postgres() -> anyhow::Result<(String, String, String)> {
    let admin_url = std::env::var("BENCH_ADMIN_DATABASE_URL")
        .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".to_owned());
    let name = format!("bridge_drain_{}", uuid::Uuid::now_v7().simple());
    let mut admin = sqlx::PgConnection::connect(&admin_url).await?;
    sqlx::query(&format!("CREATE DATABASE {name}"))
        .execute(&mut admin)
        .await?;
    let mut url = url::Url::parse(&admin_url)?;
    url.set_path(&name);
    Ok((url.to_string(), admin_url, name))
}
