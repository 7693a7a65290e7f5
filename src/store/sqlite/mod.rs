//! SQLite backend: one file, WAL, one replica. Inbox inserts are group-committed by the
//! writer on its own connection and thread (`batch`); other writes queue for one write
//! connection, and reads go through a small pool (WAL lets them run beside the writer).
//!
//! Why one write connection: SQLite admits one writer at a time, and a connection that
//! finds the lock taken sleeps in its busy handler (1, 2, 5, 10 … ms) instead of
//! queueing, so a pool of writers leaves the lock idle while they sleep. Waiting for the
//! one connection is an async queue with no sleeping.
//!
//! Durability: `synchronous = FULL` in WAL mode, so a transaction is on disk (fsynced)
//! before `record_event` returns and a 2xx is sent; it survives a process crash *and* a
//! power loss or kernel panic. Group commit pays that fsync once per batch, not per event.
//!
//! Every store trait is implemented once for both backends (`store::shared`). What is
//! SQLite's own, by nature, is here: opening the file and its pools; reads and writes going
//! to different pools; write transactions that take the write lock up front (`BEGIN
//! IMMEDIATE`); event ids stored as text; the group commit through rusqlite (`batch`); the
//! claim, whose plan SQLite needs spelled out (`inbox`); and the prune, which relies on the
//! write lock instead of row locks (`event_log`).

mod batch;
mod event_log;
mod inbox;

pub use inbox::WORKER_SQL;

use std::path::Path;
use std::str::FromStr;
use std::time::Duration;

use async_trait::async_trait;
use sqlx::sqlite::{
    SqliteConnectOptions, SqliteJournalMode, SqlitePool, SqlitePoolOptions, SqliteSynchronous,
};
use sqlx::{Sqlite, Transaction};

use super::grouped::{BatchSettings, GroupedWrites};
use super::shared::impl_shared;
use super::writer::Writer;
use super::{Cipher, EventId, Store, StoreError, StoreResult};
use crate::config::StoreConfig;

static MIGRATOR: sqlx::migrate::Migrator = sqlx::migrate!("./migrations/sqlite");

/// Page cache per writing connection, in KiB when negative (SQLite's convention): 32 MiB.
const CACHE_SIZE: &str = "-32768";

/// Page cache per reading connection: 8 MiB. Reads are point lookups and short index
/// walks that the OS page cache serves well, and a pool of ten 32-MiB caches kept a
/// process that had drained a burst at several times its idle size.
const READ_CACHE_SIZE: &str = "-8192";

/// A pooled connection unused this long is closed, and its page cache freed with it.
const POOL_IDLE_TIMEOUT: Duration = Duration::from_secs(30);

/// A pooled connection is closed (after its current use) once it is this old. The pool
/// hands out its idle connections in turn, so a read now and then keeps every one of them
/// from ever idling out, each with the pages it cached (up to its `cache_size`) and its
/// thread's allocator pages: after a drain the process held 83 MiB against 24 MiB idle
/// (bench/README.md, memory). Opening a connection again costs about a millisecond.
const POOL_MAX_LIFETIME: Duration = Duration::from_secs(60);

/// How long a statement waits on SQLite's write lock before giving up.
const BUSY_TIMEOUT: Duration = Duration::from_secs(5);

pub struct SqliteStore {
    /// Reads.
    pool: SqlitePool,
    /// Every write but inbox inserts: one connection.
    writes: SqlitePool,
    writer: Writer,
    /// The worker's writes, group-committed on `writes`.
    grouped: GroupedWrites<Sqlite>,
    cipher: Option<Cipher>,
}

impl SqliteStore {
    /// Opens (creating the file and its directory if needed) and starts the writer.
    pub async fn open(config: &StoreConfig, cipher: Option<Cipher>) -> StoreResult<Self> {
        let options = SqliteConnectOptions::from_str(config.url.expose())?
            .create_if_missing(true)
            .journal_mode(SqliteJournalMode::Wal)
            .synchronous(SqliteSynchronous::Full)
            .busy_timeout(BUSY_TIMEOUT)
            .foreign_keys(true)
            // Each inbox insert touches six B-trees; SQLite's default 2 MiB page cache
            // makes the writer re-read their pages from the OS under load (seen in perf).
            .pragma("cache_size", CACHE_SIZE);
        create_parent_dir(options.get_filename())?;
        let pool = SqlitePoolOptions::new()
            .max_connections(config.max_connections)
            .acquire_timeout(super::acquire_timeout(config))
            .idle_timeout(POOL_IDLE_TIMEOUT)
            .max_lifetime(POOL_MAX_LIFETIME)
            .connect_with(options.clone().pragma("cache_size", READ_CACHE_SIZE))
            .await?;
        let writes = SqlitePoolOptions::new()
            .max_connections(1)
            .acquire_timeout(super::acquire_timeout(config))
            .idle_timeout(POOL_IDLE_TIMEOUT)
            .max_lifetime(POOL_MAX_LIFETIME)
            .connect_with(options.clone())
            .await?;
        let writer = Writer::start_on_thread(
            "sqlite-inbox-writer",
            batch::SqliteBatch::open(options.get_filename())?,
            config.write_batch_max,
            config.write_queue_capacity,
        )
        .map_err(|e| StoreError::Unavailable(format!("cannot start the inbox writer: {e}")))?;
        let grouped = GroupedWrites::start(
            writes.clone(),
            BatchSettings {
                begin: Some("BEGIN IMMEDIATE"),
                lanes: config.group_commit_lanes.min(1),
                batch_max: config.write_batch_max,
                capacity: config.write_queue_capacity,
            },
        );
        Ok(Self {
            pool,
            writes,
            writer,
            grouped,
            cipher,
        })
    }
}

/// What the shared store code needs of this backend (see `store::shared`).
impl SqliteStore {
    fn reads(&self) -> &SqlitePool {
        &self.pool
    }

    fn writes(&self) -> &SqlitePool {
        &self.writes
    }

    /// IMMEDIATE: the write lock first, so nothing changes between a look and an update.
    async fn begin_write(&self) -> StoreResult<Transaction<'static, Sqlite>> {
        Ok(self.writes.begin_with("BEGIN IMMEDIATE").await?)
    }

    /// Event ids are stored as text (hyphenated, lower case).
    fn id_param(id: EventId) -> String {
        id.0.to_string()
    }
}

impl_shared!(SqliteStore, Sqlite, String);

fn create_parent_dir(file: &Path) -> StoreResult<()> {
    match file.parent() {
        Some(dir) if !dir.as_os_str().is_empty() => std::fs::create_dir_all(dir)
            .map_err(|e| StoreError::Unavailable(format!("cannot create {}: {e}", dir.display()))),
        _ => Ok(()),
    }
}

#[async_trait]
impl Store for SqliteStore {
    fn backend(&self) -> &'static str {
        "sqlite"
    }

    async fn ping(&self) -> StoreResult<()> {
        sqlx::query("SELECT 1").execute(&self.pool).await?;
        Ok(())
    }

    async fn migrate(&self) -> StoreResult<()> {
        MIGRATOR.run(&self.writes).await?;
        Ok(())
    }

    async fn migrations_applied(&self) -> StoreResult<bool> {
        let exists = sqlx::query(
            "SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = '_sqlx_migrations'",
        )
        .fetch_optional(&self.pool)
        .await?
        .is_some();
        if !exists {
            return Ok(false);
        }
        self.migrations_cover(&MIGRATOR).await
    }

    async fn close(&self) {
        self.writer.close().await;
        self.writes.close().await;
        self.pool.close().await;
    }
}
