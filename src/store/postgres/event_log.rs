//! The attempt log and the pruning of finished history on PostgreSQL.

use async_trait::async_trait;
use uuid::Uuid;

use super::PgStore;
use crate::store::rows::attempt_from_row;
use crate::store::{AttemptRecord, EventId, EventLog, Millis, StoreResult};

#[async_trait]
impl EventLog for PgStore {
    async fn record_attempt(&self, a: &AttemptRecord) -> StoreResult<()> {
        let sql = "INSERT INTO event_attempts (event_id, attempt, started_at, finished_at, outcome, \
                   error, requests) VALUES ($1, $2, $3, $4, $5, $6, $7::jsonb)";
        let q = sqlx::query(sql)
            .bind(a.event_id.0)
            .bind(i64::from(a.attempt))
            .bind(a.started_at.0)
            .bind(a.finished_at.0);
        q.bind(&a.outcome)
            .bind(&a.error)
            .bind(a.requests.to_string())
            .execute(&self.pool)
            .await?;
        Ok(())
    }

    async fn event_attempts(&self, id: EventId) -> StoreResult<Vec<AttemptRecord>> {
        let sql = "SELECT event_id::text AS event_id, attempt, started_at, finished_at, outcome, \
                   error, requests::text AS requests FROM event_attempts WHERE event_id = $1 ORDER BY seq";
        let rows = sqlx::query(sql).bind(id.0).fetch_all(&self.pool).await?;
        rows.iter().map(attempt_from_row).collect()
    }

    async fn prune_finished_events(&self, received_before: Millis, limit: u32) -> StoreResult<u64> {
        let mut tx = self.pool.begin().await?;
        // Locked, so a replay running meanwhile waits and then finds them gone; skipped
        // if locked, so a second pruner takes other rows instead of waiting.
        let sql = "SELECT id FROM inbox_events \
                   WHERE status IN ('done', 'ignored', 'echo', 'superseded') AND received_at < $1 \
                   ORDER BY seq LIMIT $2 FOR UPDATE SKIP LOCKED";
        let doomed: Vec<Uuid> = sqlx::query_scalar(sql)
            .bind(received_before.0)
            .bind(i64::from(limit))
            .fetch_all(&mut *tx)
            .await?;
        delete_for(&mut tx, "event_attempts", "event_id", &doomed).await?;
        delete_for(&mut tx, "action_log", "event_id", &doomed).await?;
        let events = delete_for(&mut tx, "inbox_events", "id", &doomed).await?;
        tx.commit().await?;
        Ok(events)
    }
}

/// Deletes the rows of `table` whose `column` names one of `events`.
async fn delete_for(
    tx: &mut sqlx::Transaction<'static, sqlx::Postgres>,
    table: &str,
    column: &str,
    events: &[Uuid],
) -> StoreResult<u64> {
    let sql = format!("DELETE FROM {table} WHERE {column} = ANY($1)");
    let done = sqlx::query(&sql).bind(events).execute(&mut **tx).await?;
    Ok(done.rows_affected())
}
