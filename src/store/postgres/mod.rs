//! PostgreSQL backend, for several replicas: a pooled, lazily connected store whose
//! claims use `FOR UPDATE SKIP LOCKED` so replicas never take the same event.

mod batch;
mod event_log;
mod inbox;
mod oauth_states;
mod polls_and_leases;
mod records;

pub use inbox::WORKER_SQL;

use std::str::FromStr;

use async_trait::async_trait;
use sqlx::Row;
use sqlx::postgres::{PgConnectOptions, PgPool, PgPoolOptions};

use super::writer::Writer;
use super::{Cipher, Store, StoreError, StoreResult, covers_all};
use crate::config::StoreConfig;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/postgres");

pub struct PgStore {
    pool: PgPool,
    writer: Writer,
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
        Ok(Self {
            pool,
            writer,
            cipher,
        })
    }

    fn cipher(&self) -> StoreResult<&Cipher> {
        self.cipher.as_ref().ok_or(StoreError::EncryptionKeyMissing)
    }
}

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
        let rows = sqlx::query("SELECT version FROM _sqlx_migrations WHERE success")
            .fetch_all(&self.pool)
            .await?;
        let applied: Vec<i64> = rows.iter().map(|r| r.get(0)).collect();
        Ok(covers_all(&applied, &MIGRATOR))
    }

    async fn close(&self) {
        self.writer.close().await;
        self.pool.close().await;
    }
}
