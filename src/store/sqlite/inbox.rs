//! The inbox on SQLite.

use async_trait::async_trait;

use super::SqliteStore;
use crate::store::rows::{
    OPEN_EVENTS_SQL, event_from_row, in_receive_order, open_events_from_row, status_count_from_row,
};

/// Columns of `inbox_events` that `event_from_row` reads.
const EVENT_COLUMNS: &str = "seq, id, source, connection_id, external_id, event_type, entity_key, headers, \
     body, status, attempts, received_at, next_attempt_at, lease_owner, lease_expires_at, last_error";
use crate::store::{
    Claim, Completion, EventId, EventStatus, Inbox, Millis, NewEvent, OpenEvents, Recorded,
    StoreError, StoreResult, StoredEvent,
};

/// Back to waiting: `pending` if it never failed, `retrying` otherwise.
const REQUEUED_STATUS: &str = "CASE WHEN last_error IS NULL THEN 'pending' ELSE 'retrying' END";

#[async_trait]
impl Inbox for SqliteStore {
    async fn record_event(&self, event: NewEvent) -> StoreResult<Recorded> {
        self.writer.record(event).await
    }

    async fn claim_due_events(&self, claim: &Claim) -> StoreResult<Vec<StoredEvent>> {
        let sql = format!(
            "UPDATE inbox_events SET status = 'processing', lease_owner = ?1, lease_expires_at = ?2, \
               attempts = attempts + 1, updated_at = ?3 \
             WHERE seq IN ( \
               SELECT e.seq FROM inbox_events e \
               WHERE e.status IN ('pending', 'retrying') AND e.next_attempt_at <= ?3 \
                 AND NOT EXISTS (SELECT 1 FROM inbox_events p WHERE p.entity_key = e.entity_key \
                   AND p.seq < e.seq AND p.status IN ('pending', 'retrying', 'processing')) \
               ORDER BY e.seq LIMIT ?4) \
             RETURNING {EVENT_COLUMNS}"
        );
        let rows = sqlx::query(&sql)
            .bind(&claim.owner)
            .bind(claim.now.plus(claim.lease).0)
            .bind(claim.now.0)
            .bind(i64::from(claim.limit))
            .fetch_all(&self.pool)
            .await?;
        let events = rows
            .iter()
            .map(event_from_row)
            .collect::<StoreResult<Vec<_>>>()?;
        Ok(in_receive_order(events))
    }

    async fn complete_event(&self, id: EventId, owner: &str, how: Completion) -> StoreResult<()> {
        let sql = "UPDATE inbox_events SET status = ?, lease_owner = NULL, lease_expires_at = NULL, updated_at = ? \
                   WHERE id = ? AND status = 'processing' AND lease_owner = ?";
        let done = sqlx::query(sql)
            .bind(how.status().as_str())
            .bind(Millis::now().0);
        leased_update(self, done, id, owner).await
    }

    async fn schedule_retry(
        &self,
        id: EventId,
        owner: &str,
        at: Millis,
        error: &str,
    ) -> StoreResult<()> {
        let sql = "UPDATE inbox_events SET status = 'retrying', next_attempt_at = ?, last_error = ?, \
                   lease_owner = NULL, lease_expires_at = NULL, updated_at = ? \
                   WHERE id = ? AND status = 'processing' AND lease_owner = ?";
        let retry = sqlx::query(sql)
            .bind(at.0)
            .bind(error)
            .bind(Millis::now().0);
        leased_update(self, retry, id, owner).await
    }

    async fn postpone_event(&self, id: EventId, owner: &str, until: Millis) -> StoreResult<()> {
        let sql = format!(
            "UPDATE inbox_events SET status = {REQUEUED_STATUS}, next_attempt_at = ?, attempts = attempts - 1, \
             lease_owner = NULL, lease_expires_at = NULL, updated_at = ? \
             WHERE id = ? AND status = 'processing' AND lease_owner = ?"
        );
        let postpone = sqlx::query(&sql).bind(until.0).bind(Millis::now().0);
        leased_update(self, postpone, id, owner).await
    }

    async fn mark_dead(&self, id: EventId, owner: &str, error: &str) -> StoreResult<()> {
        let sql = "UPDATE inbox_events SET status = 'dead', last_error = ?, lease_owner = NULL, \
                   lease_expires_at = NULL, updated_at = ? \
                   WHERE id = ? AND status = 'processing' AND lease_owner = ?";
        let dead = sqlx::query(sql).bind(error).bind(Millis::now().0);
        leased_update(self, dead, id, owner).await
    }

    async fn release_leases(&self, owner: &str) -> StoreResult<u64> {
        let sql = format!(
            "UPDATE inbox_events SET status = {REQUEUED_STATUS}, attempts = attempts - 1, \
             lease_owner = NULL, lease_expires_at = NULL, updated_at = ? \
             WHERE status = 'processing' AND lease_owner = ?"
        );
        let done = sqlx::query(&sql)
            .bind(Millis::now().0)
            .bind(owner)
            .execute(&self.pool)
            .await?;
        Ok(done.rows_affected())
    }

    async fn reclaim_expired_leases(&self, now: Millis) -> StoreResult<u64> {
        let sql = "UPDATE inbox_events SET status = 'retrying', next_attempt_at = ?1, \
                   last_error = 'lease expired: the worker holding it stopped', \
                   lease_owner = NULL, lease_expires_at = NULL, updated_at = ?1 \
                   WHERE status = 'processing' AND lease_expires_at < ?1";
        let done = sqlx::query(sql).bind(now.0).execute(&self.pool).await?;
        Ok(done.rows_affected())
    }

    async fn event(&self, id: EventId) -> StoreResult<Option<StoredEvent>> {
        let sql = format!("SELECT {EVENT_COLUMNS} FROM inbox_events WHERE id = ?");
        let row = sqlx::query(&sql)
            .bind(id.0.to_string())
            .fetch_optional(&self.pool)
            .await?;
        row.as_ref()
            .map(|r| event_from_row(r).map(|(_, e)| e))
            .transpose()
    }

    async fn open_events_summary(&self) -> StoreResult<Vec<OpenEvents>> {
        let rows = sqlx::query(OPEN_EVENTS_SQL).fetch_all(&self.pool).await?;
        rows.iter().map(open_events_from_row).collect()
    }

    async fn count_events_by_status(&self) -> StoreResult<Vec<(EventStatus, u64)>> {
        let rows = sqlx::query("SELECT status, COUNT(*) FROM inbox_events GROUP BY status")
            .fetch_all(&self.pool)
            .await?;
        rows.iter().map(status_count_from_row).collect()
    }
}

type Query<'q> = sqlx::query::Query<'q, sqlx::Sqlite, sqlx::sqlite::SqliteArguments<'q>>;

/// Runs an update on a leased event; it only applies while `owner` holds the lease.
async fn leased_update<'q>(
    store: &SqliteStore,
    query: Query<'q>,
    id: EventId,
    owner: &'q str,
) -> StoreResult<()> {
    let done = query
        .bind(id.0.to_string())
        .bind(owner)
        .execute(&store.pool)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!(
            "event {id} is not leased by {owner}"
        )));
    }
    Ok(())
}
