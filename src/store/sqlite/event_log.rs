//! The part of the event log that is SQLite's own: how a prune names its events: by the
//! same query in each delete, which the write lock keeps selecting the same rows.

use sqlx::{Sqlite, Transaction};

use super::SqliteStore;
use crate::store::{Millis, StoreResult};

/// The events a prune takes, oldest first.
const DOOMED: &str = "SELECT id FROM inbox_events \
     WHERE status IN ('done', 'ignored', 'echo', 'superseded') AND received_at < ?1 \
     ORDER BY seq LIMIT ?2";

impl SqliteStore {
    /// The prune's events, named by its cutoff: the query runs again in each delete.
    pub(super) async fn doomed_events(
        _tx: &mut Transaction<'static, Sqlite>,
        received_before: Millis,
        limit: u32,
    ) -> StoreResult<(Millis, u32)> {
        Ok((received_before, limit))
    }

    /// Deletes the rows of `table` whose `column` names an event the prune takes.
    pub(super) async fn delete_doomed(
        tx: &mut Transaction<'static, Sqlite>,
        table: &str,
        column: &str,
        &(received_before, limit): &(Millis, u32),
    ) -> StoreResult<u64> {
        let sql = format!("DELETE FROM {table} WHERE {column} IN ({DOOMED})");
        let done = sqlx::query(&sql)
            .bind(received_before.0)
            .bind(i64::from(limit))
            .execute(&mut **tx)
            .await?;
        Ok(done.rows_affected())
    }
}
