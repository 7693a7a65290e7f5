//! The inbox on either backend: every statement but the claim and its companions
//! (`WORKER_SQL`) and the lease check of a coalescing (`LEASED_SEQ_SQL`), which differ.

/// Implements `Inbox` for `$store`, whose database is `$db`.
macro_rules! shared_inbox {
    ($store:ty, $db:ty) => {
        const _: () = {
            use async_trait::async_trait;
            use sqlx::query_builder::Separated;

            use $crate::store::replay_sql::{replay_count, replay_update};
            use $crate::store::rows::{
                EVENT_COLUMNS, OPEN_EVENTS_SQL, event_from_row, in_receive_order, open_events_from_row,
                status_count_from_row,
            };
            use $crate::store::{
                Claim, Completion, EventId, EventStatus, Inbox, Millis, NewEvent, OpenEvents, Recorded,
                ReplayFilter, StoreError, StoreResult, StoredEvent,
            };

            /// Back to waiting: `pending` if it never failed, `retrying` otherwise.
            const REQUEUED_STATUS: &str = "CASE WHEN last_error IS NULL THEN 'pending' ELSE 'retrying' END";

            #[async_trait]
            impl Inbox for $store {
                async fn record_event(&self, event: NewEvent) -> StoreResult<Recorded> {
                    self.writer.record(event).await
                }

                async fn claim_due_events(&self, claim: &Claim) -> StoreResult<Vec<StoredEvent>> {
                    let rows = sqlx::query(Self::WORKER_SQL.claim)
                        .bind(&claim.owner)
                        .bind(claim.now.plus(claim.lease).0)
                        .bind(claim.now.0)
                        .bind(i64::from(claim.limit))
                        .fetch_all(self.writes())
                        .await?;
                    let events = rows
                        .iter()
                        .map(event_from_row)
                        .collect::<StoreResult<Vec<_>>>()?;
                    Ok(in_receive_order(events))
                }

                async fn complete_event(&self, id: EventId, owner: &str, how: Completion) -> StoreResult<()> {
                    let sql = "UPDATE inbox_events SET status = $1, lease_owner = NULL, lease_expires_at = NULL, updated_at = $2 \
                               WHERE id = $3 AND status = 'processing' AND lease_owner = $4";
                    let done = sqlx::query(sql)
                        .bind(how.status().as_str())
                        .bind(Millis::now().0);
                    self.leased_update(done, id, owner).await
                }

                async fn schedule_retry(
                    &self,
                    id: EventId,
                    owner: &str,
                    at: Millis,
                    error: &str,
                ) -> StoreResult<()> {
                    let sql = "UPDATE inbox_events SET status = 'retrying', next_attempt_at = $1, last_error = $2, \
                               lease_owner = NULL, lease_expires_at = NULL, updated_at = $3 \
                               WHERE id = $4 AND status = 'processing' AND lease_owner = $5";
                    let retry = sqlx::query(sql)
                        .bind(at.0)
                        .bind(error)
                        .bind(Millis::now().0);
                    self.leased_update(retry, id, owner).await
                }

                async fn postpone_event(&self, id: EventId, owner: &str, until: Millis) -> StoreResult<()> {
                    let sql = format!(
                        "UPDATE inbox_events SET status = {REQUEUED_STATUS}, next_attempt_at = $1, attempts = attempts - 1, \
                         lease_owner = NULL, lease_expires_at = NULL, updated_at = $2 \
                         WHERE id = $3 AND status = 'processing' AND lease_owner = $4"
                    );
                    let postpone = sqlx::query(&sql).bind(until.0).bind(Millis::now().0);
                    self.leased_update(postpone, id, owner).await
                }

                async fn mark_dead(&self, id: EventId, owner: &str, error: &str) -> StoreResult<()> {
                    let sql = "UPDATE inbox_events SET status = 'dead', last_error = $1, lease_owner = NULL, \
                               lease_expires_at = NULL, updated_at = $2 \
                               WHERE id = $3 AND status = 'processing' AND lease_owner = $4";
                    let dead = sqlx::query(sql).bind(error).bind(Millis::now().0);
                    self.leased_update(dead, id, owner).await
                }

                async fn extend_lease(&self, id: EventId, owner: &str, until: Millis) -> StoreResult<()> {
                    let sql = "UPDATE inbox_events SET lease_expires_at = $1, updated_at = $2 \
                               WHERE id = $3 AND status = 'processing' AND lease_owner = $4";
                    let extend = sqlx::query(sql).bind(until.0).bind(Millis::now().0);
                    self.leased_update(extend, id, owner).await
                }

                async fn release_leases(&self, owner: &str) -> StoreResult<u64> {
                    let sql = format!(
                        "UPDATE inbox_events SET status = {REQUEUED_STATUS}, attempts = attempts - 1, \
                         lease_owner = NULL, lease_expires_at = NULL, updated_at = $1 \
                         WHERE status = 'processing' AND lease_owner = $2"
                    );
                    let done = sqlx::query(&sql)
                        .bind(Millis::now().0)
                        .bind(owner)
                        .execute(self.writes())
                        .await?;
                    Ok(done.rows_affected())
                }

                async fn reclaim_expired_leases(&self, now: Millis) -> StoreResult<u64> {
                    let done = sqlx::query(Self::WORKER_SQL.reclaim)
                        .bind(now.0)
                        .execute(self.writes())
                        .await?;
                    Ok(done.rows_affected())
                }

                async fn event(&self, id: EventId) -> StoreResult<Option<StoredEvent>> {
                    let sql = format!("SELECT {EVENT_COLUMNS} FROM inbox_events WHERE id = $1");
                    let row = sqlx::query(&sql)
                        .bind(Self::id_param(id))
                        .fetch_optional(self.reads())
                        .await?;
                    row.as_ref()
                        .map(|r| event_from_row(r).map(|(_, e)| e))
                        .transpose()
                }

                async fn open_events_summary(&self) -> StoreResult<Vec<OpenEvents>> {
                    let rows = sqlx::query(OPEN_EVENTS_SQL).fetch_all(self.reads()).await?;
                    rows.iter().map(open_events_from_row).collect()
                }

                async fn count_events_by_status(&self) -> StoreResult<Vec<(EventStatus, u64)>> {
                    let rows = sqlx::query("SELECT status, COUNT(*) FROM inbox_events GROUP BY status")
                        .fetch_all(self.reads())
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
                    let mut tx = self.begin_write().await?;
                    let claimed_seq = Self::leased_seq(&mut tx, claimed, owner).await?;
                    let Some(newest) = Self::newest_open_seq(&mut tx, entity_key, event_type, claimed_seq).await?
                    else {
                        return Ok(0);
                    };
                    let done = sqlx::query(Self::WORKER_SQL.supersede)
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
                    let bind_id = |ids: &mut Separated<'_, '_, $db, &'static str>, id: EventId| {
                        ids.push_bind(Self::id_param(id));
                    };
                    if dry_run {
                        let mut count = replay_count(filter, bind_id);
                        let matched: i64 = count.build_query_scalar().fetch_one(self.reads()).await?;
                        return Ok(u64::try_from(matched).unwrap_or_default());
                    }
                    let mut update = replay_update(filter, now, bind_id);
                    Ok(update.build().execute(self.writes()).await?.rows_affected())
                }
            }

            type Tx = sqlx::Transaction<'static, $db>;
            type Query<'q> = sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>;

            impl $store {
                /// The seq of `id` while `owner` holds it; an error once the lease is lost.
                async fn leased_seq(tx: &mut Tx, id: EventId, owner: &str) -> StoreResult<i64> {
                    let seq: Option<i64> = sqlx::query_scalar(Self::LEASED_SEQ_SQL)
                        .bind(Self::id_param(id))
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
                    let newest: Option<i64> = sqlx::query_scalar(Self::WORKER_SQL.newest_open)
                        .bind(entity_key)
                        .bind(after)
                        .bind(event_type)
                        .fetch_one(&mut **tx)
                        .await?;
                    Ok(newest)
                }

                /// Runs an update on a leased event; it only applies while `owner` holds the lease.
                async fn leased_update<'q>(
                    &self,
                    query: Query<'q>,
                    id: EventId,
                    owner: &'q str,
                ) -> StoreResult<()> {
                    let done = query
                        .bind(Self::id_param(id))
                        .bind(owner)
                        .execute(self.writes())
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound(format!(
                            "event {id} is not leased by {owner}"
                        )));
                    }
                    Ok(())
                }
            }
        };
    };
}

pub(crate) use shared_inbox;
