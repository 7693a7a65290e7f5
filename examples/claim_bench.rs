//! Claim latency and drain rate over an inbox that keeps a long finished history, with
//! and without the claim index (`inbox_events_claimable`, migration 0005), in alternating
//! pairs on one database. Run through `bench/claim.sh`; not a test.
//!
//! Usage: claim_bench sqlite|postgres [FINISHED] [WAITING] [PAIRS]
//!
//! The inbox is filled with FINISHED `done` events (the oldest), then, before each run,
//! WAITING new `pending` events of distinct entities. A run drains them the way the worker
//! does: claim a batch of 32, complete each through the store, until nothing is due.
//! "after" is the schema of migration 0005 and the claim statement the store runs now;
//! "before" is the schema and statement before it (on SQLite, the same statement without
//! `INDEXED BY`, and `inbox_events_due` back).
//! PostgreSQL is analyzed before each run (autovacuum would be, eventually); SQLite is
//! not, as the service never analyzes it. PostgreSQL runs on a fresh database created
//! through `BENCH_ADMIN_DATABASE_URL` (default `postgres://postgres@127.0.0.1:5432/postgres`)
//! and dropped at the end. Prints Markdown table rows.

use std::time::{Duration, Instant};

use futures::future::try_join_all;
use sqlx::{Connection as _, Row as _};
use tovuti_ghl_bridge::config::{Config, DatabaseUrl};
use tovuti_ghl_bridge::store::{self, Completion, EventId, Millis, Store, worker_sql};

const BATCH: u32 = 32;
const OWNER: &str = "claim-bench";

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let args: Vec<String> = std::env::args().skip(1).collect();
    let number = |i: usize, default: u64| -> anyhow::Result<u64> {
        args.get(i).map_or(Ok(default), |n| Ok(n.parse()?))
    };
    let backend = args.first().map_or("sqlite", String::as_str);
    let (finished, waiting, pairs) = (number(1, 1_000_000)?, number(2, 5_000)?, number(3, 2)?);
    let db = Db::create(backend).await?;
    let store = store::connect(&db.config().store, None).await?;
    store.migrate().await?;
    let started = Instant::now();
    db.insert(0, finished, "done").await?;
    eprintln!(
        "{backend}: {finished} finished events in {:.0} s",
        started.elapsed().as_secs_f64()
    );
    let mut next = finished;
    for _ in 0..pairs {
        for with_index in [false, true] {
            db.set_schema(with_index).await?;
            db.insert(next, waiting, "pending").await?;
            next += waiting;
            db.analyze().await?;
            let run = drain(&db, store.as_ref(), &db.claim_sql(with_index)).await?;
            anyhow::ensure!(run.events == waiting, "drained {} of {waiting}", run.events);
            run.print(backend, with_index, next - waiting);
        }
    }
    store.close().await;
    db.finish().await
}

struct Run {
    events: u64,
    claims: Vec<Duration>,
    wall: Duration,
}

/// Claims with `claim_sql` and completes through the store until nothing is due, timing
/// each claim.
async fn drain(db: &Db, store: &dyn Store, claim_sql: &str) -> anyhow::Result<Run> {
    let (started, mut events, mut claims) = (Instant::now(), 0, Vec::new());
    loop {
        let now = Millis::now();
        let asked = Instant::now();
        let batch = db.claim(claim_sql, now).await?;
        claims.push(asked.elapsed());
        if batch.is_empty() {
            break;
        }
        events += batch.len() as u64;
        let done = batch
            .iter()
            .map(|id| store.complete_event(*id, OWNER, Completion::Done));
        try_join_all(done).await?;
    }
    Ok(Run {
        events,
        claims,
        wall: started.elapsed(),
    })
}

impl Run {
    fn print(mut self, backend: &str, with_index: bool, finished: u64) {
        self.claims.sort();
        let at = |q: f64| {
            let i = ((self.claims.len() as f64 - 1.0) * q).round() as usize;
            self.claims.get(i).map_or(0.0, |d| d.as_secs_f64() * 1000.0)
        };
        println!(
            "| {backend} | {} | {finished} | {} | {} | {:.2} | {:.2} | {:.2} | {:.1} | {:.0} |",
            if with_index { "after" } else { "before" },
            self.events,
            self.claims.len(),
            at(0.5),
            at(0.95),
            at(1.0),
            self.wall.as_secs_f64(),
            self.events as f64 / self.wall.as_secs_f64(),
        );
    }
}

/// The bench database, reached past the store's interface to fill it, to change its
/// schema and to claim with either statement.
enum Db {
    Sqlite {
        _dir: tempfile::TempDir,
        url: String,
        pool: sqlx::SqlitePool,
    },
    Postgres {
        url: String,
        admin: String,
        name: String,
        pool: sqlx::PgPool,
    },
}

impl Db {
    async fn create(backend: &str) -> anyhow::Result<Self> {
        match backend {
            "sqlite" => {
                let dir = tempfile::tempdir()?;
                let url = format!("sqlite://{}/bench.db?mode=rwc", dir.path().display());
                let pool = sqlx::SqlitePool::connect_lazy(&url)?;
                Ok(Self::Sqlite {
                    _dir: dir,
                    url,
                    pool,
                })
            }
            "postgres" => {
                let admin = std::env::var("BENCH_ADMIN_DATABASE_URL")
                    .unwrap_or_else(|_| "postgres://postgres@127.0.0.1:5432/postgres".into());
                let name = format!("claim_bench_{}", uuid::Uuid::now_v7().simple());
                let mut conn = sqlx::PgConnection::connect(&admin).await?;
                sqlx::raw_sql(&format!("CREATE DATABASE {name}"))
                    .execute(&mut conn)
                    .await?;
                let mut url = url::Url::parse(&admin)?;
                url.set_path(&name);
                let pool = sqlx::PgPool::connect_lazy(url.as_str())?;
                Ok(Self::Postgres {
                    url: url.to_string(),
                    admin,
                    name,
                    pool,
                })
            }
            other => anyhow::bail!("unknown backend {other}"),
        }
    }

    /// The claim the store runs now, or the one before migration 0005.
    fn claim_sql(&self, after: bool) -> String {
        let now = match self {
            Self::Sqlite { .. } => worker_sql::SQLITE.claim,
            Self::Postgres { .. } => worker_sql::POSTGRES.claim,
        };
        if after {
            now.to_owned()
        } else {
            now.replace(" INDEXED BY inbox_events_claimable", "")
        }
    }

    /// The ids `sql` claims, bound as the store binds its claim.
    async fn claim(&self, sql: &str, now: Millis) -> anyhow::Result<Vec<EventId>> {
        let lease_end = now.plus(Duration::from_secs(60)).0;
        let ids: Vec<String> = match self {
            Self::Sqlite { pool, .. } => {
                let query = sqlx::query(sql).bind(OWNER).bind(lease_end).bind(now.0);
                let rows = query.bind(i64::from(BATCH)).fetch_all(pool).await?;
                rows.iter()
                    .map(|r| r.try_get("id"))
                    .collect::<Result<_, _>>()?
            }
            Self::Postgres { pool, .. } => {
                let query = sqlx::query(sql).bind(OWNER).bind(lease_end).bind(now.0);
                let rows = query.bind(i64::from(BATCH)).fetch_all(pool).await?;
                rows.iter()
                    .map(|r| r.try_get("id"))
                    .collect::<Result<_, _>>()?
            }
        };
        ids.iter()
            .map(|id| Ok(EventId(id.parse()?)))
            .collect::<anyhow::Result<_>>()
    }

    fn config(&self) -> Config {
        let mut config = Config::defaults();
        let url = match self {
            Self::Sqlite { url, .. } | Self::Postgres { url, .. } => url,
        };
        config.store.url = DatabaseUrl::new(url.replace("?mode=rwc", ""));
        config
    }

    async fn execute(&self, sql: &str) -> anyhow::Result<()> {
        match self {
            Self::Sqlite { pool, .. } => {
                sqlx::raw_sql(sql).execute(pool).await?;
            }
            Self::Postgres { pool, .. } => {
                sqlx::raw_sql(sql).execute(pool).await?;
            }
        }
        Ok(())
    }

    /// `count` events numbered after `first`, each of its own entity, in one statement.
    async fn insert(&self, first: u64, count: u64, status: &str) -> anyhow::Result<()> {
        let (last, t0) = (first + count, Millis::now().0 - 86_400_000);
        let (with, from, id) = match self {
            Self::Sqlite { .. } => (
                format!(
                    "WITH RECURSIVE series(n) AS (SELECT {} UNION ALL \
                     SELECT n + 1 FROM series WHERE n < {last}) ",
                    first + 1
                ),
                "series".to_owned(),
                "printf('00000000-0000-4000-8000-%012d', n)",
            ),
            Self::Postgres { .. } => (
                String::new(),
                format!("generate_series({}, {last}) AS series(n)", first + 1),
                "gen_random_uuid()",
            ),
        };
        self.execute(&format!(
            "{with}INSERT INTO inbox_events (id, source, external_id, event_type, entity_key, \
               received_at, headers, body, status, next_attempt_at, updated_at) \
             SELECT {id}, 'tovuti', 'bench-' || n, 'user.updated', 'tovuti:user:' || n, \
               {t0} + n, '{{}}', '{body}', '{status}', {t0} + n, {t0} + n \
             FROM {from}",
            body = "x".repeat(200),
        ))
        .await
    }

    /// The schema of migration 0005 (`after`) or the one before it.
    async fn set_schema(&self, after: bool) -> anyhow::Result<()> {
        let claimable = if after {
            "CREATE INDEX IF NOT EXISTS inbox_events_claimable ON inbox_events (seq) \
             WHERE status IN ('pending', 'retrying');"
        } else {
            "DROP INDEX IF EXISTS inbox_events_claimable;"
        };
        // SQLite's 0005 also dropped the index that only the claim read.
        let due = match (self, after) {
            (Self::Postgres { .. }, _) => "",
            (Self::Sqlite { .. }, true) => "DROP INDEX IF EXISTS inbox_events_due;",
            (Self::Sqlite { .. }, false) => {
                "CREATE INDEX IF NOT EXISTS inbox_events_due ON inbox_events \
                 (next_attempt_at, seq) WHERE status IN ('pending', 'retrying');"
            }
        };
        self.execute(&format!("{claimable} {due}")).await
    }

    async fn analyze(&self) -> anyhow::Result<()> {
        match self {
            Self::Sqlite { .. } => Ok(()),
            Self::Postgres { .. } => self.execute("ANALYZE inbox_events").await,
        }
    }

    async fn finish(self) -> anyhow::Result<()> {
        if let Self::Postgres {
            admin, name, pool, ..
        } = self
        {
            pool.close().await;
            let mut conn = sqlx::PgConnection::connect(&admin).await?;
            sqlx::raw_sql(&format!("DROP DATABASE IF EXISTS {name} WITH (FORCE)"))
                .execute(&mut conn)
                .await?;
        }
        Ok(())
    }
}
