//! How fast the worker drains a backlog, and how many GHL requests a burst of edits costs,
//! against the fake GHL (without a quota) and the fake Tovuti. Run through
//! `bench/drain.sh`; not a test.
//!
//! Usage:
//!   drain_bench drain sqlite|postgres EVENTS CONCURRENCY [EVENTS_PER_USER] [HISTORY]
//!   drain_bench noop  sqlite|postgres EVENTS CONCURRENCY [EVENTS_PER_USER] [HISTORY]
//!   drain_bench burst sqlite|postgres [CONCURRENCY]
//!
//! `drain` runs the real sync engine in the service's own worker loop (`Worker::run`, so
//! claims, attempts and outcomes overlap as they do in production); `noop` the same worker
//! with a processor that does nothing, so its rate is the ceiling set by the worker and the
//! store alone. `HISTORY` finished events are stored first, to show whether the drain
//! depends on how much history the inbox keeps. Each prints one Markdown table row.
//! PostgreSQL runs on a fresh database created through
//! `BENCH_ADMIN_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! and dropped at the end. `BENCH_GROUP_COMMIT_LANES` and `BENCH_WRITE_BATCH_MAX` override
//! `store.group_commit_lanes` and `store.write_batch_max`. `BENCH_REPLICAS=N` drains
//! with N replicas (PostgreSQL): each its own store, engine and instance id, as a process
//! of its own would have, sharing the database and the fakes, each at CONCURRENCY.

use std::sync::{Arc, Mutex};
use std::time::{Duration, Instant};

use async_trait::async_trait;
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
use tovuti_ghl_bridge::store::{
    Cipher, Completion, EventStatus, Millis, NewEvent, Source, StoredEvent,
};
use tovuti_ghl_bridge::sync::{ProcessError, Processor};
use tovuti_ghl_bridge::worker::{Outcome, Worker};

const LOCATION: &str = "bench-location";
const TOVUTI_TOKEN: &str = "7|bench-token";
/// Concurrent `record_event` calls while filling the inbox (they share commits).
const FILL_WRITERS: usize = 256;
/// The burst: this many edits to each of this many linked users, within a second.
const BURST_USERS: u64 = 100;
const BURST_EDITS: usize = 10;

/// The service's own allocator (see `src/main.rs`), so the drain measured is the one the
/// binary runs.
#[global_allocator]
static ALLOCATOR: mimalloc::MiMalloc = mimalloc::MiMalloc;

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| -> anyhow::Result<u64> {
        args.get(i).map_or(Ok(default), |n| Ok(n.parse()?))
    };
    match args.first().map(String::as_str) {
        Some(mode @ ("drain" | "noop")) => {
            let backend = args.get(1).map_or("sqlite", String::as_str);
            let (events, concurrency) = (number(2, 10_000)?, number(3, 8)?);
            let per_user = number(4, 10)?.max(1);
            let run = Run {
                noop: mode == "noop",
                events,
                concurrency: u32::try_from(concurrency)?,
                per_user,
                history: number(5, 0)?,
            };
            drain(backend, &run).await
        }
        Some("burst") => {
            let backend = args.get(1).map_or("sqlite", String::as_str);
            burst(backend, u32::try_from(number(2, 32)?)?).await
        }
        _ => anyhow::bail!(
            "usage: drain_bench drain|noop sqlite|postgres EVENTS CONCURRENCY [EVENTS_PER_USER]\n\
             \x20      drain_bench burst sqlite|postgres [CONCURRENCY]"
        ),
    }
}

/// `BENCH_REPLICAS`: how many replicas drain together (PostgreSQL only; default 1).
fn bench_replicas() -> anyhow::Result<usize> {
    Ok(std::env::var("BENCH_REPLICAS").map_or(Ok(1), |n| n.parse())?)
}

/// One drain's shape.
struct Run {
    noop: bool,
    events: u64,
    concurrency: u32,
    per_user: u64,
    /// Finished events stored before the backlog.
    history: u64,
}

/// Fills the inbox with `events` Tovuti events over `events / per_user` users (each
/// user's first is `user.updated`, the rest `note.created`, so nothing is coalesced),
/// then drains it with the worker loop.
async fn drain(backend: &str, run: &Run) -> anyhow::Result<()> {
    let Run {
        noop,
        events,
        concurrency,
        per_user,
        history,
    } = *run;
    let bench = Bench::start(backend, concurrency).await?;
    bench.add_history(history).await?;
    let users = events.div_ceil(per_user);
    let fill_started = Instant::now();
    // Round by round, so each user's `user.updated` is received before its notes.
    for round in 0..per_user {
        let first = round * users;
        let batch = (first..events.min(first + users)).map(|n| {
            let (user, event_type) = (
                n % users,
                if round == 0 {
                    "user.updated"
                } else {
                    "note.created"
                },
            );
            tovuti_event(event_type, &format!("drain-{n}"), user, n, None)
        });
        bench.record(batch).await?;
    }
    let fill = fill_started.elapsed();

    // Each replica has its own store (pools, group commit), engine and instance id, as a
    // process of its own would; they share the fakes and the database.
    let mut replicas = vec![bench.state.clone()];
    for _ in 1..bench_replicas()? {
        replicas.push(bench.replica().await?);
    }
    let mut workers = Vec::new();
    for state in &replicas {
        let processor = Arc::new(Timed::new(if noop {
            Arc::new(Noop) as Arc<dyn Processor>
        } else {
            Arc::new(startup::sync_engine(state)?)
        }));
        workers.push((
            Worker::new(state.services.clone(), processor.clone()),
            processor,
        ));
    }
    let processors: Vec<Arc<Timed>> = workers.iter().map(|(_, p)| p.clone()).collect();
    let cpu = CpuClock::now()?;
    let workers = workers.into_iter().map(|(w, _)| w).collect();
    let wall = run_worker_until_drained(workers, &bench, &processors, events).await?;
    let (process_cpu, machine_cores) = cpu.since(wall)?;
    let engine_total: Duration = processors
        .iter()
        .flat_map(|p| p.take())
        .map(|(a, b)| b - a)
        .sum();

    let statuses = bench.state.store.count_events_by_status().await?;
    let done = statuses
        .iter()
        .filter(|(status, _)| *status == EventStatus::Done)
        .map(|(_, n)| *n)
        .sum::<u64>();
    anyhow::ensure!(
        done == events + history,
        "expected {} events done, the store has {statuses:?}",
        events + history
    );
    let handled = events as f64;
    let failed = bench.failed_attempts().await?;
    if !failed.is_empty() {
        eprintln!("{backend}: attempts that did not end done: {failed:?}");
    }
    let ghl_requests = bench.ghl.requests().len() as f64;
    let tovuti_requests = bench.tovuti.requests().len() as f64;
    println!(
        "| {backend} | {} | {concurrency} | {events} | {users} | {history} | {:.1} | {:.0} | {:.0} | {:.0} | {:.0} | {:.2} | {:.2} | {:.2} | {:.1} |",
        match (noop, replicas.len()) {
            (true, 1) => "no-op".to_owned(),
            (false, 1) => "engine".to_owned(),
            (true, n) => format!("no-op, {n} replicas"),
            (false, n) => format!("engine, {n} replicas"),
        },
        wall.as_secs_f64(),
        handled / wall.as_secs_f64(),
        micros(wall) / handled,
        micros(engine_total) / handled,
        micros(process_cpu) / handled,
        machine_cores,
        ghl_requests / handled,
        tovuti_requests / handled,
        events as f64 / fill.as_secs_f64() / 1000.0,
    );
    bench.finish().await
}

/// Links `BURST_USERS` users (one `user.created` each, drained), records `BURST_EDITS`
/// `user.updated` of each within a second, drains, and counts what reached GHL.
async fn burst(backend: &str, concurrency: u32) -> anyhow::Result<()> {
    let bench = Bench::start(backend, concurrency).await?;
    let created =
        (0..BURST_USERS).map(|u| tovuti_event("user.created", &format!("create-{u}"), u, u, None));
    bench.record(created).await?;
    let engine = Arc::new(Timed::new(Arc::new(startup::sync_engine(&bench.state)?)));
    let worker = Worker::new(bench.state.services.clone(), engine.clone());
    run_until_idle(&worker, &engine).await?;
    let linked = bench.ghl.contacts().len();
    anyhow::ensure!(linked == 100, "expected 100 contacts, GHL has {linked}");
    let before = bench.ghl.requests().len();

    let recording = Instant::now();
    for edit in 0..BURST_EDITS {
        let batch = (0..BURST_USERS).map(|u| {
            let id = format!("edit-{u}-{edit}");
            tovuti_event("user.updated", &id, u, u, Some(edit))
        });
        bench.record(batch).await?;
    }
    let recorded_in = recording.elapsed();
    let report = run_until_idle(&worker, &engine).await?;

    let during: Vec<String> = bench.ghl.requests()[before..]
        .iter()
        .map(|r| {
            format!(
                "{} {}",
                r.method,
                r.path.split('/').take(2).collect::<Vec<_>>().join("/")
            )
        })
        .collect();
    let mut kinds = std::collections::BTreeMap::<&str, usize>::new();
    for request in &during {
        *kinds.entry(request.as_str()).or_default() += 1;
    }
    let last = format!("Edit{}", BURST_EDITS - 1);
    let current = bench
        .ghl
        .contacts()
        .iter()
        .filter(|c| c.to_string().contains(&last))
        .count();
    let statuses = bench.state.store.count_events_by_status().await?;
    let changes = BURST_USERS as f64 * BURST_EDITS as f64;
    println!(
        "| {backend} | {concurrency} | {} | {:.0} ms | {} | {:.0} ms | {} | {:.2} | {:.3} | {current} of {BURST_USERS} |",
        changes,
        recorded_in.as_secs_f64() * 1000.0,
        report.handled,
        report.wall.as_secs_f64() * 1000.0,
        during.len(),
        during.len() as f64 / BURST_USERS as f64,
        during.len() as f64 / changes,
    );
    eprintln!("{backend} burst: GHL requests by kind {kinds:?}; events by status {statuses:?}");
    bench.finish().await
}

/// Runs the worker loop until no event is open, then stops it; returns the wall time.
/// The inbox is counted only once the processor has seen `events` events: the count is
/// work for the database too (9 ms on PostgreSQL with 20,000 open, a few per cent of a
/// drain's server time when it ran every 250 ms).
async fn run_worker_until_drained(
    workers: Vec<Worker>,
    bench: &Bench,
    timed: &[Arc<Timed>],
    events: u64,
) -> anyhow::Result<Duration> {
    let started = Instant::now();
    let shutdown = bench.state.services.shutdown.clone();
    let running: Vec<_> = workers.into_iter().map(|w| tokio::spawn(w.run())).collect();
    let (mut progress, mut seen, mut moved) = (Instant::now(), 0, Instant::now());
    loop {
        tokio::time::sleep(Duration::from_millis(10)).await;
        let processed: usize = timed.iter().map(|t| t.processed()).sum();
        if processed != seen {
            (seen, moved) = (processed, Instant::now());
        }
        if progress.elapsed() > Duration::from_secs(10) {
            let secs = started.elapsed().as_secs_f64();
            eprintln!("  … {seen} of {events} processed after {secs:.0} s");
            progress = Instant::now();
        }
        // Events ended without a call (superseded by a newer one) are counted once the
        // processor has been still for a second.
        if (seen as u64) < events && moved.elapsed() < Duration::from_secs(1) {
            continue;
        }
        let open: u64 = bench
            .state
            .store
            .open_events_summary()
            .await?
            .iter()
            .map(|o| o.count)
            .sum();
        if open == 0 {
            break;
        }
    }
    let wall = started.elapsed();
    shutdown.cancel();
    for worker in running {
        worker.await?;
    }
    Ok(wall)
}

/// What one drain by steps took.
struct Drained {
    handled: usize,
    wall: Duration,
}

/// Drains by `run_once` steps (each step's events finish before the next claim): the
/// burst counts what one claim of a coalesced burst sends.
async fn run_until_idle(worker: &Worker, timed: &Timed) -> anyhow::Result<Drained> {
    let started = Instant::now();
    let mut handled = 0;
    while let Outcome::Handled(n) = worker.run_once(Millis::now()).await? {
        handled += n;
        timed.take();
    }
    Ok(Drained {
        handled,
        wall: started.elapsed(),
    })
}

/// Wraps a processor and notes when each call started and ended.
struct Timed {
    inner: Arc<dyn Processor>,
    spans: Mutex<Vec<(Instant, Instant)>>,
}

impl Timed {
    fn new(inner: Arc<dyn Processor>) -> Self {
        Self {
            inner,
            spans: Mutex::new(Vec::new()),
        }
    }

    /// How many calls have ended.
    fn processed(&self) -> usize {
        self.spans.lock().unwrap_or_else(|p| p.into_inner()).len()
    }

    fn take(&self) -> Vec<(Instant, Instant)> {
        std::mem::take(&mut *self.spans.lock().unwrap_or_else(|p| p.into_inner()))
    }
}

#[async_trait]
impl Processor for Timed {
    async fn process(&self, event: &StoredEvent) -> Result<Completion, ProcessError> {
        let started = Instant::now();
        let outcome = self.inner.process(event).await;
        let span = (started, Instant::now());
        self.spans
            .lock()
            .unwrap_or_else(|p| p.into_inner())
            .push(span);
        outcome
    }
}

/// Completes every event at once: the worker and the store alone.
struct Noop;

#[async_trait]
impl Processor for Noop {
    async fn process(&self, _event: &StoredEvent) -> Result<Completion, ProcessError> {
        Ok(Completion::Done)
    }
}

/// The service's state on a fresh store with the default connection pointing at the
/// fakes; GHL's quota is lifted on both sides (the fake and the client's throttle).
struct Bench {
    state: AppState,
    /// What the first replica was built from, for more of them.
    config: Config,
    ghl: FakeGhl,
    tovuti: FakeTovuti,
    _dir: TempDir,
    /// The store's URL, to read what the `Store` interface does not show.
    url: String,
    postgres: Option<(String, String)>,
}

impl Bench {
    async fn start(backend: &str, concurrency: u32) -> anyhow::Result<Self> {
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
    async fn replica(&self) -> anyhow::Result<AppState> {
        anyhow::ensure!(
            self.postgres.is_some(),
            "replicas share a PostgreSQL database"
        );
        let shutdown = self.state.services.shutdown.clone();
        startup::build_state(self.config.clone(), shutdown).await
    }

    /// Attempts that did not end `done`, by outcome and error (first 60 characters): a
    /// drain that retries is doing work twice.
    async fn failed_attempts(&self) -> anyhow::Result<Vec<(String, String, i64)>> {
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
    async fn add_history(&self, count: u64) -> anyhow::Result<()> {
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
    async fn record(&self, events: impl Iterator<Item = NewEvent>) -> anyhow::Result<()> {
        let store = &self.state.store;
        let mut results = futures::stream::iter(events)
            .map(|event| store.record_event(event))
            .buffer_unordered(FILL_WRITERS);
        while let Some(result) = results.next().await {
            result?;
        }
        Ok(())
    }

    async fn finish(self) -> anyhow::Result<()> {
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
fn tovuti_event(event_type: &str, id: &str, user: u64, note: u64, edit: Option<usize>) -> NewEvent {
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

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}

/// CPU time of this process (worker, engine, fakes, SQLite: all in-process) and of the
/// whole machine (PostgreSQL's server and anything else running), from `/proc`.
struct CpuClock {
    process_ticks: u64,
    machine_busy_ticks: u64,
}

/// `/proc` counts in USER_HZ, which Linux fixes at 100 for user space.
const TICKS_PER_SEC: f64 = 100.0;

impl CpuClock {
    fn now() -> anyhow::Result<Self> {
        let stat = std::fs::read_to_string("/proc/self/stat")?;
        // Fields after the parenthesised command name; utime and stime are 14th and 15th.
        let after = stat.rsplit_once(')').map_or("", |(_, rest)| rest);
        let fields: Vec<&str> = after.split_whitespace().collect();
        let field = |i: usize| -> anyhow::Result<u64> {
            Ok(fields
                .get(i)
                .ok_or_else(|| anyhow::anyhow!("short /proc/self/stat"))?
                .parse()?)
        };
        let process_ticks = field(11)? + field(12)?;
        let machine = std::fs::read_to_string("/proc/stat")?;
        let cpu: Vec<u64> = machine
            .lines()
            .next()
            .unwrap_or_default()
            .split_whitespace()
            .skip(1)
            .filter_map(|n| n.parse().ok())
            .collect();
        // user nice system idle iowait irq softirq steal: busy is all but idle and iowait.
        let busy = cpu
            .iter()
            .take(8)
            .enumerate()
            .filter(|(i, _)| *i != 3 && *i != 4)
            .map(|(_, n)| n)
            .sum();
        Ok(Self {
            process_ticks,
            machine_busy_ticks: busy,
        })
    }

    /// This process's CPU time since, and the cores the machine kept busy on average.
    fn since(&self, wall: Duration) -> anyhow::Result<(Duration, f64)> {
        let now = Self::now()?;
        let process = (now.process_ticks - self.process_ticks) as f64 / TICKS_PER_SEC;
        let machine = (now.machine_busy_ticks - self.machine_busy_ticks) as f64 / TICKS_PER_SEC;
        Ok((
            Duration::from_secs_f64(process),
            machine / wall.as_secs_f64(),
        ))
    }
}
