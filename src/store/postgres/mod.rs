//! PostgreSQL backend, for several replicas: a pooled, lazily connected store whose
//! claims use `FOR UPDATE SKIP LOCKED` so replicas never take the same event.
//!
//! Every store trait is implemented once for both backends (`store::shared`). What is
//! PostgreSQL's own, by nature, is here: the lazily connected pool, used for reads and
//! writes alike; event ids stored as UUID; the group commit as one multi-row insert
//! (`batch`); the claim with `FOR UPDATE SKIP LOCKED` and the row lock of a coalescing
//! (`inbox`); and the prune, which locks the rows it takes (`event_log`).

mod batch;
mod event_log;
mod inbox;

pub use inbox::WORKER_SQL;

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};
use sqlx::{Postgres, Row, Transaction};
use uuid::Uuid;

use super::grouped::{BatchSettings, GroupedWrites};
use super::shared::impl_shared;
use super::writer::Writer;
use super::{Cipher, EventId, Store, StoreResult};
use crate::config::StoreConfig;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PgStore {
    pool: PgPool,
    writer: Writer,
    /// The worker's writes, group-committed.
    grouped: GroupedWrites<Postgres>,
    cipher: Option<Cipher>,
}

impl PgStore {
    /// Builds the pool without connecting: the first query connects, so a database that
    /// is down at startup shows as unavailable instead of stopping the process.
    pub fn open(config: &StoreConfig, cipher: Option<Cipher>) -> StoreResult<Self> {
        let options =
            PgConnectOptions::from_str(config.url.expose())?.application_name("tovuti-ghl-bridge");
        // Each replica holds up to max_connections; replicas x max_connections must stay
        // below the server's max_connections (see README, "Running on PostgreSQL").
        let pool = PgPoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(super::acquire_timeout(config))
            .connect_lazy_with(options);
        let writer = Writer::start(
            batch::PgBatch(pool.clone()),
            config.write_batch_max,
            config.write_queue_capacity,
        );
        let grouped = GroupedWrites::start(
            pool.clone(),
            BatchSettings {
                begin: None,
                lanes: config.group_commit_lanes,
                batch_max: config.write_batch_max,
                capacity: config.write_queue_capacity,
            },
        );
        Ok(Self {
            pool,
            writer,
            grouped,
            cipher,
        })
    }
}

/// What the shared store code needs of this backend (see `store::shared`).
impl PgStore {
    fn reads(&self) -> &PgPool {
        &self.pool
    }

    fn writes(&self) -> &PgPool {
        &self.pool
    }

    async fn begin_write(&self) -> StoreResult<Transaction<'static, Postgres>> {
        Ok(self.pool.begin().await?)
    }

    /// Event ids are stored as UUID.
    fn id_param(id: EventId) -> Uuid {
        id.0
    }
}

impl_shared!(PgStore, Postgres, Uuid);

#[async_trait]
impl Store for PgStore {
    fn backend(&self) -> &'static str {
        "postgres"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn migrate(&self) -> StoreResult<()> {
        // sqlx takes an advisory lock, so replicas starting together migrate once.
        MIGRATOR.run(&self.pool).await?;
        Ok(())
    }

    async fn migrations_applied(&self) -> StoreResult<bool> {
        let exists: bool = sqlx::query("SELECT to_regclass('_sqlx_migrations') IS NOT NULL")
            .fetch_one(&self.pool)
            .await?
            .try_get(0)?;
        if !exists {
            return Ok(false);
        }
        self.migrations_cover(&MIGRATOR).await
    }

    async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}
