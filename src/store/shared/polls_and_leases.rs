//! Poll cursors and snapshots, and named leases, on either backend.

/// Implements `PollState` and `Leases` for `$store`.
macro_rules! shared_polls_and_leases {
    ($store:ty) => {
        const _: () = {
            use std::time::Duration;

            use async_trait::async_trait;
            use sqlx::Row;

            use $crate::store::row_writes::Value;
            use $crate::store::rows::json;
            use $crate::store::{Leases, Millis, PollState, Snapshot, StoreResult};

            #[async_trait]
            impl PollState for $store {
                async fn poll_cursor(&self, connection_id: &str, stream: &str) -> StoreResult<Option<String>> {
                    let sql = "SELECT cursor FROM poll_cursors WHERE connection_id = $1 AND stream = $2";
                    let row = sqlx::query(sql)
                        .bind(connection_id)
                        .bind(stream)
                        .fetch_optional(self.reads())
                        .await?;
                    Ok(row.map(|r| r.get(0)))
                }

                async fn save_poll_cursor(
                    &self,
                    connection_id: &str,
                    stream: &str,
                    cursor: &str,
                ) -> StoreResult<()> {
                    let sql = "INSERT INTO poll_cursors (connection_id, stream, cursor, updated_at) VALUES ($1, $2, $3, $4) \
                               ON CONFLICT (connection_id, stream) DO UPDATE SET cursor = excluded.cursor, \
                               updated_at = excluded.updated_at";
                    let q = sqlx::query(sql)
                        .bind(connection_id)
                        .bind(stream)
                        .bind(cursor);
                    q.bind(Millis::now().0).execute(self.writes()).await?;
                    Ok(())
                }

                async fn poll_snapshot(
                    &self,
                    connection_id: &str,
                    entity_key: &str,
                ) -> StoreResult<Option<Snapshot>> {
                    let sql = "SELECT digest, state, updated_at FROM poll_snapshots WHERE connection_id = $1 AND entity_key = $2";
                    let Some(row) = sqlx::query(sql)
                        .bind(connection_id)
                        .bind(entity_key)
                        .fetch_optional(self.reads())
                        .await?
                    else {
                        return Ok(None);
                    };
                    let state = json(&row.try_get::<String, _>(1)?)?;
                    Ok(Some(Snapshot {
                        digest: row.try_get(0)?,
                        state,
                        updated_at: Millis(row.try_get(2)?),
                    }))
                }

                async fn save_poll_snapshot(
                    &self,
                    connection_id: &str,
                    entity_key: &str,
                    s: &Snapshot,
                ) -> StoreResult<()> {
                    // The sync engine writes these as it applies events: in the worker's
                    // group commit, beside the event's other writes.
                    let row = vec![
                        Value::text(connection_id),
                        Value::text(entity_key),
                        Value::text(s.digest.as_str()),
                        Value::text(s.state.to_string()),
                        Value::Int(Some(s.updated_at.0)),
                    ];
                    self.grouped.write_row(&$crate::store::row_statements::SNAPSHOT, row).await.map(drop)
                }

                async fn poll_snapshots(
                    &self,
                    connection_id: &str,
                    entity_keys: &[String],
                ) -> StoreResult<std::collections::HashMap<String, Snapshot>> {
                    if entity_keys.is_empty() {
                        return Ok(std::collections::HashMap::new());
                    }
                    let mut select = $crate::store::poll_sql::select_snapshots(connection_id, entity_keys);
                    let rows = select.build().fetch_all(self.reads()).await?;
                    rows.iter().map($crate::store::poll_sql::snapshot_row).collect()
                }

                async fn save_poll_snapshots(
                    &self,
                    connection_id: &str,
                    snapshots: &[(String, Snapshot)],
                ) -> StoreResult<()> {
                    use $crate::store::poll_sql::{UPSERT_CHUNK, upsert_snapshots};
                    if snapshots.is_empty() {
                        return Ok(());
                    }
                    let states: Vec<String> = snapshots.iter().map(|(_, s)| s.state.to_string()).collect();
                    // One transaction: a page's changes land together or not at all.
                    let mut tx = self.begin_write().await?;
                    for (rows, states) in snapshots.chunks(UPSERT_CHUNK).zip(states.chunks(UPSERT_CHUNK)) {
                        let mut upsert = upsert_snapshots(connection_id, rows, states);
                        upsert.build().execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }
            }

            #[async_trait]
            impl Leases for $store {
                async fn try_acquire_lease(
                    &self,
                    name: &str,
                    owner: &str,
                    now: Millis,
                    ttl: Duration,
                ) -> StoreResult<bool> {
                    let sql = "INSERT INTO named_leases (name, owner, expires_at) VALUES ($1, $2, $3) \
                               ON CONFLICT (name) DO UPDATE SET owner = excluded.owner, expires_at = excluded.expires_at \
                               WHERE named_leases.owner = excluded.owner OR named_leases.expires_at <= $4 \
                               RETURNING owner";
                    let q = sqlx::query(sql)
                        .bind(name)
                        .bind(owner)
                        .bind(now.plus(ttl).0)
                        .bind(now.0);
                    Ok(q.fetch_optional(self.writes()).await?.is_some())
                }

                async fn release_lease(&self, name: &str, owner: &str) -> StoreResult<()> {
                    let sql = "DELETE FROM named_leases WHERE name = $1 AND owner = $2";
                    sqlx::query(sql)
                        .bind(name)
                        .bind(owner)
                        .execute(self.writes())
                        .await?;
                    Ok(())
                }
            }
        };
    };
}

pub(crate) use shared_polls_and_leases;
