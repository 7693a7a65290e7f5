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

use std::sync::Arc;
use std::time::{Duration, Instant};

use tovuti_ghl_bridge::startup;
use tovuti_ghl_bridge::store::{EventStatus, Millis};
use tovuti_ghl_bridge::sync::Processor;
use tovuti_ghl_bridge::worker::{Outcome, Worker};

mod bench;
mod measure;

use bench::{Bench, tovuti_event};
use measure::{CpuClock, Noop, Timed};

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

fn micros(duration: Duration) -> f64 {
    duration.as_secs_f64() * 1e6
}
