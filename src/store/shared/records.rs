//! Sync state (identity links, fingerprints, the action log, object links, applied
//! times), on either backend.

/// Implements `SyncState` for `$store`.
macro_rules! shared_records {
    ($store:ty) => {
        const _: () = {
            use async_trait::async_trait;
            use sqlx::Row;
            use uuid::Uuid;

            use $crate::store::row_statements;
            use $crate::store::row_writes::Value;
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
                    // Most links are new: one insert, merged with the batch's others. A user or
                    // contact linked before (the insert changed nothing) is relinked: the newest
                    // evidence wins, so its earlier links go first. One DELETE per key rather
                    // than one with `OR`: PostgreSQL planned that one, prepared on an empty
                    // table, as a scan of the whole table, 0.7 ms a link at 20,000 links; each
                    // of these is a unique-index look-up however the table has grown.
                    let now = Millis::now().0;
                    let row = vec![
                        Value::text(connection_id),
                        Value::text(tovuti_user_id),
                        Value::text(ghl_contact_id),
                        Value::Int(Some(now)),
                    ];
                    if self.grouped.write_row(&row_statements::NEW_LINK, row).await? {
                        return Ok(());
                    }
                    let (connection_id, tovuti_user_id, ghl_contact_id) =
                        (connection_id.to_owned(), tovuti_user_id.to_owned(), ghl_contact_id.to_owned());
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
                    let row = vec![
                        Value::text(connection_id),
                        Value::text(entity_key),
                        Value::text(direction.as_str()),
                        Value::text(fingerprint),
                        Value::Int(Some(at.0)),
                    ];
                    self.grouped.write_row(&row_statements::FINGERPRINT, row).await.map(drop)
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
                    let row = vec![
                        Value::text(r.idempotency_key.as_str()),
                        Value::text(r.event_id.0.to_string()),
                        Value::text(r.action.as_str()),
                        Value::text(r.outcome.to_string()),
                        Value::Int(Some(r.recorded_at.0)),
                    ];
                    self.grouped.write_row(&row_statements::ACTION_RECORD, row).await
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
                    let row = vec![
                        Value::text(key),
                        Value::text(event_id.0.to_string()),
                        Value::text(action),
                        Value::Int(Some(now.0)),
                    ];
                    let inserted = self.grouped.write_row(&row_statements::ACTION_BEGIN, row).await?;
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
                    let row = vec![
                        Value::text(key),
                        Value::text(EventId(Uuid::nil()).0.to_string()),
                        Value::text(outcome.to_string()),
                        Value::Int(Some(now.0)),
                    ];
                    self.grouped.write_row(&row_statements::ACTION_FINISH, row).await.map(drop)
                }

                async fn remember_object(
                    &self,
                    connection_id: &str,
                    kind: &str,
                    object_key: &str,
                    remote_id: &str,
                    now: Millis,
                ) -> StoreResult<()> {
                    let row = vec![
                        Value::text(connection_id),
                        Value::text(kind),
                        Value::text(object_key),
                        Value::text(remote_id),
                        Value::Int(Some(now.0)),
                    ];
                    self.grouped.write_row(&row_statements::OBJECT, row).await.map(drop)
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
                    let row = vec![Value::text(connection_id), Value::text(entity), Value::Int(Some(at.0))];
                    self.grouped.write_row(&row_statements::APPLIED, row).await.map(drop)
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
