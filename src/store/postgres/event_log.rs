//! The part of the event log that is PostgreSQL's own: how a prune names its events: by
//! their ids, locked.

use sqlx::{Postgres, Transaction};
use uuid::Uuid;

use super::PgStore;
use crate::store::{Millis, StoreResult};

impl PgStore {
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
