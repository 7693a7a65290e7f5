//! The attempt log and the pruning of finished history on SQLite.

use async_trait::async_trait;

use super::SqliteStore;
use crate::store::rows::attempt_from_row;
use crate::store::{AttemptRecord, EventId, EventLog, Millis, StoreResult};

/// The events a prune takes, oldest first. Under the write lock it selects the same rows
/// in each statement of the prune, so attempts, actions and events go together.
const DOOMED: &str = "SELECT id FROM inbox_events \
     WHERE status IN ('done', 'ignored', 'echo', 'superseded') AND received_at < ?1 \
     ORDER BY seq LIMIT ?2";

#[async_trait]
impl EventLog for SqliteStore {
    async fn record_attempt(&self, a: &AttemptRecord) -> StoreResult<()> {
        let sql = "INSERT INTO event_attempts (event_id, attempt, started_at, finished_at, outcome, \
                   error, requests) VALUES (?, ?, ?, ?, ?, ?, ?)";
        let q = sqlx::query(sql)
            .bind(a.event_id.0.to_string())
            .bind(i64::from(a.attempt))
            .bind(a.started_at.0)
            .bind(a.finished_at.0);
        q.bind(&a.outcome)
            .bind(&a.error)
            .bind(a.requests.to_string())
            .execute(&self.writes)
            .await?;
        Ok(())
    }

    async fn event_attempts(&self, id: EventId) -> StoreResult<Vec<AttemptRecord>> {
        let sql = "SELECT event_id, attempt, started_at, finished_at, outcome, error, requests \
                   FROM event_attempts WHERE event_id = ? ORDER BY seq";
        let rows = sqlx::query(sql)
            .bind(id.0.to_string())
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(attempt_from_row).collect()
    }

    async fn prune_finished_events(&self, received_before: Millis, limit: u32) -> StoreResult<u64> {
        let mut tx = self.writes.begin_with("BEGIN IMMEDIATE").await?;
        let cutoff = (received_before, limit);
        delete_doomed(&mut tx, "event_attempts", "event_id", cutoff).await?;
        delete_doomed(&mut tx, "action_log", "event_id", cutoff).await?;
        let events = delete_doomed(&mut tx, "inbox_events", "id", cutoff).await?;
        tx.commit().await?;
        Ok(events)
    }
}

/// Deletes the rows of `table` whose `column` names an event the prune takes.
async fn delete_doomed(
    tx: &mut sqlx::Transaction<'static, sqlx::Sqlite>,
    table: &str,
    column: &str,
    (received_before, limit): (Millis, u32),
) -> StoreResult<u64> {
    let sql = format!("DELETE FROM {table} WHERE {column} IN ({DOOMED})");
    let done = sqlx::query(&sql)
        .bind(received_before.0)
        .bind(i64::from(limit))
        .execute(&mut **tx)
        .await?;
    Ok(done.rows_affected())
}
