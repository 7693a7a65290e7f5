//! The parts of the event log that are PostgreSQL's own: the attempt insert (its `requests`
//! column is JSONB) and how a prune names its events: by their ids, locked.

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::PgStore;
use crate::store::{Millis, StoreResult};

impl PgStore {
    pub(super) const INSERT_ATTEMPT_SQL: &str = "INSERT INTO event_attempts (event_id, attempt, \
         started_at, finished_at, outcome, error, requests) \
         VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)";

    /// The ids of the events a prune takes, oldest first. Locked, so a replay running
    /// meanwhile waits and then finds them gone; skipped if locked, so a second pruner
    /// takes other rows instead of waiting.
    pub(super) async fn doomed_events(
        tx: &mut Transaction<'static, Postgres>,
        received_before: Millis,
        limit: u32,
    ) -> StoreResult<Vec<Uuid>> {
        let sql = "SELECT id FROM inbox_events \
                   WHERE status IN ('done', 'ignored', 'echo', 'superseded') AND received_at < $1 \
                   ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED";
        let doomed = sqlx::query_scalar(sql)
            .bind(received_before.0)
            .bind(i64::from(limit))
            .fetch_all(&mut **tx)
            .await?;
        Ok(doomed)
    }

    /// Deletes the rows of `table` whose `column` names one of `events`.
    pub(super) async fn delete_doomed(
        tx: &mut Transaction<'static, Postgres>,
        table: &str,
        column: &str,
        events: &[Uuid],
    ) -> StoreResult<u64> {
        let sql = format!("DELETE FROM {table} WHERE {column} = ANY($1)");
        let done = sqlx::query(&sql).bind(events).execute(&mut **tx).await?;
        Ok(done.rows_affected())
    }
}
