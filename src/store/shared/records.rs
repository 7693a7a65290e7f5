//! Sync state (identity links, fingerprints, the action log, object links, applied
//! times), on either backend.

/// Implements `SyncState` for `$store`.
macro_rules! shared_records {
    ($store:ty) => {
        const _: () = {
            use async_trait::async_trait;
            use sqlx::Row;
            use uuid::Uuid;

            use $crate::store::rows::action_from_row;
            use $crate::store::{
                ActionBegin, ActionRecord, Direction, EventId, Millis, StoreError, StoreResult, SyncState,
            };

            #[async_trait]
            impl SyncState for $store {
                async fn link_identity(
                    &self,
                    connection_id: &str,
                    tovuti_user_id: &str,
                    ghl_contact_id: &str,
                ) -> StoreResult<()> {
                    // A contact or user linked elsewhere before is relinked: the newest evidence wins.
                    // The statements run in one batch transaction and, should one fail, in one
                    // savepoint (`store::grouped`). One DELETE per key rather than one with `OR`:
                    // PostgreSQL planned that one, prepared on an empty table, as a scan of the
                    // whole table, 0.7 ms a link at 20,000 links; each of these is a unique-index
                    // look-up however the table has grown.
                    let (connection_id, tovuti_user_id, ghl_contact_id) =
                        (connection_id.to_owned(), tovuti_user_id.to_owned(), ghl_contact_id.to_owned());
                    let now = Millis::now().0;
                    self.grouped.run(move |c| {
                        let (connection_id, tovuti_user_id, ghl_contact_id) = (connection_id.clone(), tovuti_user_id.clone(), ghl_contact_id.clone());
                        Box::pin(async move {
                            sqlx::query("DELETE FROM identity_links WHERE connection_id = $1 AND tovuti_user_id = $2")
                                .bind(&connection_id)
                                .bind(&tovuti_user_id)
                                .execute(&mut *c)
                                .await?;
                            sqlx::query("DELETE FROM identity_links WHERE connection_id = $1 AND ghl_contact_id = $2")
                                .bind(&connection_id)
                                .bind(&ghl_contact_id)
                                .execute(&mut *c)
                                .await?;
                            sqlx::query("INSERT INTO identity_links (connection_id, tovuti_user_id, ghl_contact_id, linked_at) VALUES ($1, $2, $3, $4)")
                                .bind(connection_id)
                                .bind(tovuti_user_id)
                                .bind(ghl_contact_id)
                                .bind(now)
                                .execute(&mut *c)
                                .await?;
                            Ok(())
                        })
                    }).await
                }

                async fn ghl_contact_for_user(
                    &self,
                    connection_id: &str,
                    tovuti_user_id: &str,
                ) -> StoreResult<Option<String>> {
                    let sql = "SELECT ghl_contact_id FROM identity_links WHERE connection_id = $1 AND tovuti_user_id = $2";
                    let row = sqlx::query(sql)
                        .bind(connection_id)
                        .bind(tovuti_user_id)
                        .fetch_optional(self.reads())
                        .await?;
                    Ok(row.map(|r| r.get(0)))
                }

                async fn tovuti_user_for_contact(
                    &self,
                    connection_id: &str,
                    ghl_contact_id: &str,
                ) -> StoreResult<Option<String>> {
                    let sql = "SELECT tovuti_user_id FROM identity_links WHERE connection_id = $1 AND ghl_contact_id = $2";
                    let row = sqlx::query(sql)
                        .bind(connection_id)
                        .bind(ghl_contact_id)
                        .fetch_optional(self.reads())
                        .await?;
                    Ok(row.map(|r| r.get(0)))
                }

                async fn unlink_contact(&self, connection_id: &str, ghl_contact_id: &str) -> StoreResult<bool> {
                    let sql = "DELETE FROM identity_links WHERE connection_id = $1 AND ghl_contact_id = $2";
                    let done = sqlx::query(sql)
                        .bind(connection_id)
                        .bind(ghl_contact_id)
                        .execute(self.writes())
                        .await?;
                    Ok(done.rows_affected() > 0)
                }

                async fn remember_written_fingerprint(
                    &self,
                    connection_id: &str,
                    entity_key: &str,
                    direction: Direction,
                    fingerprint: &str,
                    at: Millis,
                ) -> StoreResult<()> {
                    let sql = "INSERT INTO written_fingerprints (connection_id, entity_key, direction, fingerprint, written_at) \
                               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connection_id, entity_key, direction) DO UPDATE SET \
                               fingerprint = excluded.fingerprint, written_at = excluded.written_at";
                    let values = (connection_id.to_owned(), entity_key.to_owned(), direction.as_str(), fingerprint.to_owned());
                    self.grouped.run(move |c| {
                        let values = values.clone();
                        Box::pin(async move {
                            let q = sqlx::query(sql).bind(values.0).bind(values.1).bind(values.2);
                            q.bind(values.3).bind(at.0).execute(&mut *c).await?;
                            Ok(())
                        })
                    }).await
                }

                async fn last_written_fingerprint(
                    &self,
                    connection_id: &str,
                    entity_key: &str,
                    direction: Direction,
                ) -> StoreResult<Option<String>> {
                    let sql = "SELECT fingerprint FROM written_fingerprints \
                               WHERE connection_id = $1 AND entity_key = $2 AND direction = $3";
                    let q = sqlx::query(sql)
                        .bind(connection_id)
                        .bind(entity_key)
                        .bind(direction.as_str());
                    Ok(q.fetch_optional(self.reads()).await?.map(|r| r.get(0)))
                }

                async fn record_action(&self, r: &ActionRecord) -> StoreResult<bool> {
                    // A started record is this action's own intent, so the outcome finishes it; a
                    // finished one stands.
                    let sql = "INSERT INTO action_log (idempotency_key, event_id, action, outcome, recorded_at, state) \
                               VALUES ($1, $2, $3, $4, $5, 'done') ON CONFLICT (idempotency_key) DO UPDATE SET \
                               event_id = excluded.event_id, action = excluded.action, outcome = excluded.outcome, \
                               recorded_at = excluded.recorded_at, state = 'done' WHERE action_log.state = 'started'";
                    let values = (r.idempotency_key.clone(), Self::id_param(r.event_id), r.action.clone(), r.outcome.to_string());
                    let recorded_at = r.recorded_at.0;
                    self.grouped.run(move |c| {
                        let values = values.clone();
                        Box::pin(async move {
                            let q = sqlx::query(sql).bind(values.0).bind(values.1).bind(values.2);
                            let done = q.bind(values.3).bind(recorded_at).execute(&mut *c).await?;
                            Ok(done.rows_affected() == 1)
                        })
                    }).await
                }

                async fn recorded_action(&self, key: &str) -> StoreResult<Option<ActionRecord>> {
                    match self.action_record(key).await? {
                        Some(ActionBegin::Done(record)) => Ok(Some(record)),
                        _ => Ok(None),
                    }
                }

                async fn begin_action(
                    &self,
                    key: &str,
                    event_id: EventId,
                    action: &str,
                    now: Millis,
                ) -> StoreResult<ActionBegin> {
                    let sql = "INSERT INTO action_log (idempotency_key, event_id, action, outcome, recorded_at, state) \
                               VALUES ($1, $2, $3, 'null', $4, 'started') ON CONFLICT (idempotency_key) DO NOTHING";
                    let values = (key.to_owned(), Self::id_param(event_id), action.to_owned());
                    let inserted = self.grouped.run(move |c| {
                        let values = values.clone();
                        Box::pin(async move {
                            let q = sqlx::query(sql).bind(values.0).bind(values.1).bind(values.2);
                            Ok(q.bind(now.0).execute(&mut *c).await?.rows_affected() == 1)
                        })
                    }).await?;
                    if inserted {
                        return Ok(ActionBegin::Fresh);
                    }
                    // Records are only deleted with finished events, so the one in the way is there.
                    self.action_record(key)
                        .await?
                        .ok_or_else(|| StoreError::NotFound(format!("action {key}")))
                }

                async fn finish_action(
                    &self,
                    key: &str,
                    outcome: &serde_json::Value,
                    now: Millis,
                ) -> StoreResult<()> {
                    // Without a begin there is no event or action to name: the nil id and "" stand in.
                    let sql = "INSERT INTO action_log (idempotency_key, event_id, action, outcome, recorded_at, state) \
                               VALUES ($1, $2, '', $3, $4, 'done') ON CONFLICT (idempotency_key) DO UPDATE SET \
                               outcome = excluded.outcome, recorded_at = excluded.recorded_at, state = 'done'";
                    let values = (key.to_owned(), Self::id_param(EventId(Uuid::nil())), outcome.to_string());
                    self.grouped.run(move |c| {
                        let values = values.clone();
                        Box::pin(async move {
                            let q = sqlx::query(sql).bind(values.0).bind(values.1);
                            q.bind(values.2).bind(now.0).execute(&mut *c).await?;
                            Ok(())
                        })
                    }).await
                }

                async fn remember_object(
                    &self,
                    connection_id: &str,
                    kind: &str,
                    object_key: &str,
                    remote_id: &str,
                    now: Millis,
                ) -> StoreResult<()> {
                    let sql = "INSERT INTO object_links (connection_id, kind, object_key, remote_id, updated_at) \
                               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connection_id, kind, object_key) DO UPDATE SET \
                               remote_id = excluded.remote_id, updated_at = excluded.updated_at";
                    let values = (connection_id.to_owned(), kind.to_owned(), object_key.to_owned(), remote_id.to_owned());
                    self.grouped.run(move |c| {
                        let values = values.clone();
                        Box::pin(async move {
                            let q = sqlx::query(sql).bind(values.0).bind(values.1).bind(values.2);
                            q.bind(values.3).bind(now.0).execute(&mut *c).await?;
                            Ok(())
                        })
                    }).await
                }

                async fn object_id(
                    &self,
                    connection_id: &str,
                    kind: &str,
                    object_key: &str,
                ) -> StoreResult<Option<String>> {
                    let sql = "SELECT remote_id FROM object_links \
                               WHERE connection_id = $1 AND kind = $2 AND object_key = $3";
                    let q = sqlx::query_scalar(sql)
                        .bind(connection_id)
                        .bind(kind)
                        .bind(object_key);
                    Ok(q.fetch_optional(self.reads()).await?)
                }

                async fn applied_at(&self, connection_id: &str, entity: &str) -> StoreResult<Option<Millis>> {
                    let sql = "SELECT applied_at FROM applied_states WHERE connection_id = $1 AND entity = $2";
                    let q = sqlx::query_scalar::<_, i64>(sql).bind(connection_id).bind(entity);
                    Ok(q.fetch_optional(self.reads()).await?.map(Millis))
                }

                async fn remember_applied(&self, connection_id: &str, entity: &str, at: Millis) -> StoreResult<()> {
                    // Two workers may apply updates of one entity out of order; the later
                    // time wins whichever commits last.
                    let sql = "INSERT INTO applied_states (connection_id, entity, applied_at) VALUES ($1, $2, $3) \
                               ON CONFLICT (connection_id, entity) DO UPDATE SET applied_at = excluded.applied_at \
                               WHERE applied_states.applied_at < excluded.applied_at";
                    let values = (connection_id.to_owned(), entity.to_owned());
                    self.grouped.run(move |c| {
                        let values = values.clone();
                        Box::pin(async move {
                            let q = sqlx::query(sql).bind(values.0).bind(values.1);
                            q.bind(at.0).execute(&mut *c).await?;
                            Ok(())
                        })
                    }).await
                }
            }

            impl $store {
                /// The action record under `key`, started or done.
                async fn action_record(&self, key: &str) -> StoreResult<Option<ActionBegin>> {
                    let sql = "SELECT CAST(event_id AS TEXT) AS event_id, action, outcome, recorded_at, state \
                           FROM action_log \
                               WHERE idempotency_key = $1";
                    let row = sqlx::query(sql)
                        .bind(key)
                        .fetch_optional(self.reads())
                        .await?;
                    row.map(|r| action_from_row(key, &r)).transpose()
                }
            }
        };
    };
}

pub(crate) use shared_records;
