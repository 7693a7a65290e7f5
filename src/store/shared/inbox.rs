//! The inbox on either backend: every statement but the claim and its companions
//! (`WORKER_SQL`) and the lease check of a coalescing (`LEASED_SEQ_SQL`), which differ.

/// Implements `Inbox` for `$store`, whose database is `$db` and event ids `$id`.
macro_rules! shared_inbox {
    ($store:ty, $db:ty, $id:ty) => {
        const _: () = {
            use async_trait::async_trait;
            use sqlx::query_builder::Separated;

            use $crate::store::replay_sql::{replay_count, replay_update};
            use $crate::store::row_writes::Value;
            use $crate::store::rows::{
                EVENT_COLUMNS, OPEN_EVENTS_SQL, claimed_event_from_row, event_from_row, in_receive_order, open_events_from_row,
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
                    let (owner, until, now) = (claim.owner.clone(), claim.now.plus(claim.lease).0, claim.now.0);
                    let limit = i64::from(claim.limit);
                    let rows = self.grouped.run(move |c| {
                        let owner = owner.clone();
                        Box::pin(async move {
                            let rows = sqlx::query(Self::WORKER_SQL.claim)
                                .bind(owner)
                                .bind(until)
                                .bind(now)
                                .bind(limit)
                                .fetch_all(&mut *c)
                                .await?;
                            rows.iter().map(claimed_event_from_row).collect::<StoreResult<Vec<_>>>()
                        })
                    }).await?;
                    Ok(in_receive_order(rows))
                }

                async fn complete_event(&self, id: EventId, owner: &str, how: Completion) -> StoreResult<()> {
                    let row = vec![
                        Value::text(id.0.to_string()),
                        Value::text(owner),
                        Value::text(how.status().as_str()),
                        Value::Int(Some(Millis::now().0)),
                    ];
                    if self.grouped.write_row(&$crate::store::row_statements::COMPLETE, row).await? {
                        Ok(())
                    } else {
                        Err(StoreError::NotFound(format!("event {id} is not leased by {owner}")))
                    }
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
                    let (error, now) = (error.to_owned(), Millis::now().0);
                    self.leased_update(id, owner, move |q| {
                        let error = error.clone();
                        Box::pin(async move { q.run(sqlx::query(sql).bind(at.0).bind(error).bind(now)).await })
                    }).await
                }

                async fn postpone_event(&self, id: EventId, owner: &str, until: Millis) -> StoreResult<()> {
                    let sql = format!(
                        "UPDATE inbox_events SET status = {REQUEUED_STATUS}, next_attempt_at = $1, attempts = attempts - 1, \
                         lease_owner = NULL, lease_expires_at = NULL, updated_at = $2 \
                         WHERE id = $3 AND status = 'processing' AND lease_owner = $4"
                    );
                    let now = Millis::now().0;
                    self.leased_update(id, owner, move |q| {
                        let sql = sql.clone();
                        Box::pin(async move { q.run(sqlx::query(&sql).bind(until.0).bind(now)).await })
                    }).await
                }

                async fn mark_dead(&self, id: EventId, owner: &str, error: &str) -> StoreResult<()> {
                    let sql = "UPDATE inbox_events SET status = 'dead', last_error = $1, lease_owner = NULL, \
                               lease_expires_at = NULL, updated_at = $2 \
                               WHERE id = $3 AND status = 'processing' AND lease_owner = $4";
                    let (error, now) = (error.to_owned(), Millis::now().0);
                    self.leased_update(id, owner, move |q| {
                        let error = error.clone();
                        Box::pin(async move { q.run(sqlx::query(sql).bind(error).bind(now)).await })
                    }).await
                }

                async fn extend_lease(&self, id: EventId, owner: &str, until: Millis) -> StoreResult<()> {
                    let sql = "UPDATE inbox_events SET lease_expires_at = $1, updated_at = $2 \
                               WHERE id = $3 AND status = 'processing' AND lease_owner = $4";
                    let now = Millis::now().0;
                    self.leased_update(id, owner, move |q| Box::pin(async move {
                        q.run(sqlx::query(sql).bind(until.0).bind(now)).await
                    })).await
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
                    let (owner, entity_key, event_type) = (owner.to_owned(), entity_key.to_owned(), event_type.to_owned());
                    // Inside a batch the write lock (SQLite) or the row lock (PostgreSQL) is
                    // already held, so nothing changes between the look and the update.
                    self.grouped.run(move |c| {
                        let (owner, entity_key, event_type) = (owner.clone(), entity_key.clone(), event_type.clone());
                        Box::pin(async move {
                            let claimed_seq = Self::leased_seq(&mut *c, claimed, &owner).await?;
                            let Some(newest) = Self::newest_open_seq(&mut *c, &entity_key, &event_type, claimed_seq).await?
                            else {
                                return Ok(0);
                            };
                            let done = sqlx::query(Self::WORKER_SQL.supersede)
                                .bind(now.0)
                                .bind(claimed_seq)
                                .bind(&entity_key)
                                .bind(&event_type)
                                .bind(newest)
                                .execute(&mut *c)
                                .await?;
                            Ok(done.rows_affected())
                        })
                    }).await
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

            type Connection = <$db as sqlx::Database>::Connection;
            type Query<'q> = sqlx::query::Query<'q, $db, <$db as sqlx::Database>::Arguments<'q>>;

            /// A leased update being built: the caller binds its own values, then `run`
            /// binds the event and its owner last.
            struct Leased<'c> {
                connection: &'c mut Connection,
                id: $id,
                owner: String,
            }

            impl Leased<'_> {
                async fn run(self, query: Query<'_>) -> StoreResult<u64> {
                    let done = query.bind(self.id).bind(self.owner).execute(self.connection).await?;
                    Ok(done.rows_affected())
                }
            }

            impl $store {
                /// The seq of `id` while `owner` holds it; an error once the lease is lost.
                async fn leased_seq(c: &mut Connection, id: EventId, owner: &str) -> StoreResult<i64> {
                    let seq: Option<i64> = sqlx::query_scalar(Self::LEASED_SEQ_SQL)
                        .bind(Self::id_param(id))
                        .bind(owner)
                        .fetch_optional(&mut *c)
                        .await?;
                    seq.ok_or_else(|| StoreError::NotFound(format!("event {id} is not leased by {owner}")))
                }

                /// The newest waiting event of the entity and type received after `after`, if any.
                async fn newest_open_seq(
                    c: &mut Connection,
                    entity_key: &str,
                    event_type: &str,
                    after: i64,
                ) -> StoreResult<Option<i64>> {
                    let newest: Option<i64> = sqlx::query_scalar(Self::WORKER_SQL.newest_open)
                        .bind(entity_key)
                        .bind(after)
                        .bind(event_type)
                        .fetch_one(&mut *c)
                        .await?;
                    Ok(newest)
                }

                /// Runs an update on a leased event, group-committed; it only applies while
                /// `owner` holds the lease.
                async fn leased_update<F>(&self, id: EventId, owner: &str, update: F) -> StoreResult<()>
                where
                    F: for<'c> Fn(Leased<'c>) -> futures::future::BoxFuture<'c, StoreResult<u64>> + Send + 'static,
                {
                    let (param, owned) = (Self::id_param(id), owner.to_owned());
                    let changed = self.grouped.run(move |connection| {
                        update(Leased { connection, id: param.clone(), owner: owned.clone() })
                    }).await?;
                    if changed == 0 {
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
