//! The inbox on SQLite.

use async_trait::async_trait;
use sqlx::Sqlite;
use sqlx::query_builder::Separated;

use super::SqliteStore;
use crate::store::replay_sql::{replay_count, replay_update};
use crate::store::rows::{
    OPEN_EVENTS_SQL, event_from_row, in_receive_order, open_events_from_row, status_count_from_row,
};
use crate::store::{
    Claim, Completion, EventId, EventStatus, Inbox, Millis, NewEvent, OpenEvents, Recorded,
    ReplayFilter, StoreError, StoreResult, StoredEvent, WorkerSql,
};

/// Columns of `inbox_events` that `event_from_row` reads.
const EVENT_COLUMNS: &str = "seq, id, source, connection_id, external_id, event_type, entity_key, headers, \
     body, status, attempts, received_at, next_attempt_at, lease_owner, lease_expires_at, last_error";

/// The statements run around every claim. Each reads waiting or leased events through a
/// partial index of them alone, never the finished history. SQLite uses a partial index
/// only when the query repeats the index's condition word for word, hence the status
/// terms that look redundant.
pub const WORKER_SQL: WorkerSql = WorkerSql {
    // Walks `inbox_events_claimable` (waiting events in `seq` order) and stops at the
    // limit; the earlier-event check reads `inbox_events_entity_open`. Named, because
    // once analyzed SQLite preferred reading and sorting every due event.
    claim: "UPDATE inbox_events SET status = 'processing', lease_owner = ?1, lease_expires_at = ?2, \
              attempts = attempts + 1, updated_at = ?3 \
            WHERE seq IN ( \
              SELECT e.seq FROM inbox_events e INDEXED BY inbox_events_claimable \
              WHERE e.status IN ('pending', 'retrying') AND e.next_attempt_at <= ?3 \
                AND NOT EXISTS (SELECT 1 FROM inbox_events p WHERE p.entity_key = e.entity_key \
                  AND p.seq < e.seq AND p.status IN ('pending', 'retrying', 'processing')) \
              ORDER BY e.seq LIMIT ?4) \
            RETURNING seq, id, source, connection_id, external_id, event_type, entity_key, \
              headers, body, status, attempts, received_at, next_attempt_at, lease_owner, \
              lease_expires_at, last_error",
    // `inbox_events_leased` holds only leased events.
    reclaim: "UPDATE inbox_events SET status = 'retrying', next_attempt_at = ?1, \
              last_error = 'lease expired: the worker holding it stopped', \
              lease_owner = NULL, lease_expires_at = NULL, updated_at = ?1 \
              WHERE status = 'processing' AND lease_expires_at < ?1",
    newest_open: "SELECT MAX(seq) FROM inbox_events WHERE entity_key = ?1 AND seq > ?2 \
              AND status IN ('pending', 'retrying', 'processing') \
              AND status IN ('pending', 'retrying') AND event_type = ?3",
    supersede: "UPDATE inbox_events SET status = 'superseded', lease_owner = NULL, \
              lease_expires_at = NULL, updated_at = ?1 \
              WHERE seq = ?2 OR (entity_key = ?3 AND event_type = ?4 AND seq < ?5 \
                AND status IN ('pending', 'retrying', 'processing') \
                AND status IN ('pending', 'retrying'))",
};

/// Back to waiting: `pending` if it never failed, `retrying` otherwise.
const REQUEUED_STATUS: &str = "CASE WHEN last_error IS NULL THEN 'pending' ELSE 'retrying' END";

#[async_trait]
impl Inbox for SqliteStore {
    async fn record_event(&self, event: NewEvent) -> StoreResult<Recorded> {
        self.writer.record(event).await
    }

    async fn claim_due_events(&self, claim: &Claim) -> StoreResult<Vec<StoredEvent>> {
        let rows = sqlx::query(WORKER_SQL.claim)
            .bind(&claim.owner)
            .bind(claim.now.plus(claim.lease).0)
            .bind(claim.now.0)
            .bind(i64::from(claim.limit))
            .fetch_all(&self.writes)
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

    async fn extend_lease(&self, id: EventId, owner: &str, until: Millis) -> StoreResult<()> {
        let sql = "UPDATE inbox_events SET lease_expires_at = ?, updated_at = ? \
                   WHERE id = ? AND status = 'processing' AND lease_owner = ?";
        let extend = sqlx::query(sql).bind(until.0).bind(Millis::now().0);
        leased_update(self, extend, id, owner).await
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
            .execute(&self.writes)
            .await?;
        Ok(done.rows_affected())
    }

    async fn reclaim_expired_leases(&self, now: Millis) -> StoreResult<u64> {
        let done = sqlx::query(WORKER_SQL.reclaim)
            .bind(now.0)
            .execute(&self.writes)
            .await?;
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

    async fn supersede_if_newer(
        &self,
        claimed: EventId,
        owner: &str,
        entity_key: &str,
        event_type: &str,
        now: Millis,
    ) -> StoreResult<u64> {
        // IMMEDIATE: the write lock first, so nothing changes between the look and the update.
        let mut tx = self.writes.begin_with("BEGIN IMMEDIATE").await?;
        let claimed_seq = leased_seq(&mut tx, claimed, owner).await?;
        let Some(newest) = newest_open_seq(&mut tx, entity_key, event_type, claimed_seq).await?
        else {
            return Ok(0);
        };
        let done = sqlx::query(WORKER_SQL.supersede)
            .bind(now.0)
            .bind(claimed_seq)
            .bind(entity_key)
            .bind(event_type)
            .bind(newest)
            .execute(&mut *tx)
            .await?;
        tx.commit().await?;
        Ok(done.rows_affected())
    }

    async fn replay_events(
        &self,
        filter: &ReplayFilter,
        now: Millis,
        dry_run: bool,
    ) -> StoreResult<u64> {
        let bind_id = |ids: &mut Separated<'_, '_, Sqlite, &'static str>, id: EventId| {
            ids.push_bind(id.0.to_string());
        };
        if dry_run {
            let mut count = replay_count(filter, bind_id);
            let matched: i64 = count.build_query_scalar().fetch_one(&self.pool).await?;
            return Ok(u64::try_from(matched).unwrap_or_default());
        }
        let mut update = replay_update(filter, now, bind_id);
        Ok(update.build().execute(&self.writes).await?.rows_affected())
    }
}

type Tx = sqlx::Transaction<'static, Sqlite>;

/// The seq of `id` while `owner` holds it; an error once the lease is lost.
async fn leased_seq(tx: &mut Tx, id: EventId, owner: &str) -> StoreResult<i64> {
    let sql =
        "SELECT seq FROM inbox_events WHERE id = ? AND status = 'processing' AND lease_owner = ?";
    let seq: Option<i64> = sqlx::query_scalar(sql)
        .bind(id.0.to_string())
        .bind(owner)
        .fetch_optional(&mut **tx)
        .await?;
    seq.ok_or_else(|| StoreError::NotFound(format!("event {id} is not leased by {owner}")))
}

/// The newest waiting event of the entity and type received after `after`, if any.
async fn newest_open_seq(
    tx: &mut Tx,
    entity_key: &str,
    event_type: &str,
    after: i64,
) -> StoreResult<Option<i64>> {
    let newest: Option<i64> = sqlx::query_scalar(WORKER_SQL.newest_open)
        .bind(entity_key)
        .bind(after)
        .bind(event_type)
        .fetch_one(&mut **tx)
        .await?;
    Ok(newest)
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
        .execute(&store.writes)
        .await?;
    if done.rows_affected() == 0 {
        return Err(StoreError::NotFound(format!(
            "event {id} is not leased by {owner}"
        )));
    }
    Ok(())
}
