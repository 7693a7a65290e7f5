//! One group-commit batch on SQLite, on the writer's own connection and thread.
//!
//! The writer talks to SQLite through rusqlite rather than sqlx: sqlx runs each statement
//! of a connection on a worker thread of its own and hands every statement, row and
//! transaction step across a channel. Here the writer thread itself executes the batch,
//! reusing one prepared single-row insert, so a batch costs one hand-off in and one out.

use std::path::Path;

use rusqlite::{Connection, OpenFlags, TransactionBehavior, params};
use uuid::fmt::Hyphenated;

use super::{BUSY_TIMEOUT, CACHE_SIZE};
use crate::store::rows::parse_id;
use crate::store::writer::{BlockingBatchWrite, Pending};
use crate::store::{Recorded, StoreResult};

const INSERT: &str = "INSERT INTO inbox_events (id, source, connection_id, external_id, event_type, \
     entity_key, received_at, headers, body, status, next_attempt_at, last_error, updated_at) \
     VALUES (?1, ?2, ?3, ?4, ?5, ?6, ?7, ?8, ?9, ?10, ?7, ?11, ?7) \
     ON CONFLICT (source, external_id) DO NOTHING";

const STORED_ID: &str = "SELECT id FROM inbox_events WHERE source = ?1 AND external_id = ?2";

/// SQLite has one writer at a time anyway, so the writer keeps its own connection.
pub struct SqliteBatch(Connection);

impl SqliteBatch {
    /// Opens the database file the store's pools already created, with their settings:
    /// a commit is fsynced (`synchronous = FULL`) before anyone is answered.
    pub fn open(file: &Path) -> StoreResult<Self> {
        let flags = OpenFlags::SQLITE_OPEN_READ_WRITE | OpenFlags::SQLITE_OPEN_NO_MUTEX;
        let connection = Connection::open_with_flags(file, flags)?;
        connection.busy_timeout(BUSY_TIMEOUT)?;
        connection.pragma_update(None, "journal_mode", "WAL")?;
        connection.pragma_update(None, "synchronous", "FULL")?;
        connection.pragma_update(None, "foreign_keys", "ON")?;
        connection.pragma_update(None, "cache_size", CACHE_SIZE)?;
        Ok(Self(connection))
    }
}

impl BlockingBatchWrite for SqliteBatch {
    /// Frees this connection's page cache: filled by a burst of inserts (up to
    /// `CACHE_SIZE`), it would otherwise stay resident for as long as the process runs.
    fn idle(&mut self) {
        if let Err(error) = self.0.execute_batch("PRAGMA shrink_memory") {
            tracing::debug!(%error, "could not shrink the inbox writer's page cache");
        }
    }

    fn write_batch(&mut self, batch: &[Pending]) -> StoreResult<Vec<Recorded>> {
        // IMMEDIATE takes the write lock up front, so a busy database fails (or waits)
        // here rather than halfway through the batch.
        let tx = self
            .0
            .transaction_with_behavior(TransactionBehavior::Immediate)?;
        let mut outcomes = Vec::with_capacity(batch.len());
        {
            let mut insert = tx.prepare_cached(INSERT)?;
            let mut stored_id = tx.prepare_cached(STORED_ID)?;
            let mut id = [0; Hyphenated::LENGTH];
            for p in batch {
                let e = &p.event;
                let id: &str = p.id.0.hyphenated().encode_lower(&mut id);
                let written = insert.execute(params![
                    id,
                    e.source.as_str(),
                    e.connection_id,
                    e.external_id,
                    e.event_type,
                    e.entity_key,
                    e.received_at.0,
                    e.headers.to_string(),
                    e.body.as_ref(),
                    e.status.as_str(),
                    e.note,
                ])?;
                // Skipped: this key is stored already, by an earlier delivery or by an
                // earlier row of this very batch.
                let outcome = if written == 1 {
                    Recorded::New(p.id)
                } else {
                    let existing: String = stored_id
                        .query_row(params![e.source.as_str(), e.external_id], |row| row.get(0))?;
                    Recorded::Duplicate(parse_id(&existing)?)
                };
                outcomes.push(outcome);
            }
        }
        tx.commit()?;
        Ok(outcomes)
    }
}
