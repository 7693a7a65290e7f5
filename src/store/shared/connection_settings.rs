//! Connection settings, pause, removal and Tovuti webhook secrets, on either backend. The
//! backends' `Store` impls call these inherent methods (the trait is implemented per
//! backend, so its methods cannot come from a macro here directly).

/// Associated data of one webhook secret: its connection and its id, so a ciphertext
/// cannot be moved to another connection or secret unnoticed.
pub(crate) fn webhook_secret_aad(connection_id: &str, secret_id: &str) -> String {
    crate::store::crypto::credential_aad(
        connection_id,
        &format!("tovuti_webhook_secret/{secret_id}"),
    )
}

/// A unique violation as `Conflict` (naming `what`), anything else as usual.
pub(crate) fn conflict_or_error(error: sqlx::Error, what: &str) -> crate::store::StoreError {
    match &error {
        sqlx::Error::Database(db) if db.is_unique_violation() => {
            crate::store::StoreError::Conflict(what.to_owned())
        }
        _ => error.into(),
    }
}

/// Adds the inherent `*_sql` methods behind the connection-settings part of `Store`.
macro_rules! shared_connection_settings {
    ($store:ty, $db:ty) => {
        const _: () = {
            use sqlx::Row;

            use $crate::store::rows::{CONNECTION_COLUMNS, connection_from_row};
            use $crate::store::shared::connection_settings::{conflict_or_error, webhook_secret_aad};
            use $crate::store::{
                Connection, ConnectionRecord, Millis, NewWebhookSecret, StoreError, StoreResult,
                StoredWebhookSecret,
            };

            /// Events of a connection that wait (pending or retrying, due later) become due.
            const WAKE_SQL: &str = "UPDATE inbox_events SET next_attempt_at = $1 \
                WHERE connection_id = $2 AND status IN ('pending', 'retrying') AND next_attempt_at > $1";

            type Args<'q> = <$db as sqlx::Database>::Arguments<'q>;

            /// `sql` with a record's settings bound as $1 (id) to $7 (poller) and $8 (now),
            /// the order both the insert and the update name them in.
            fn record_query<'q>(
                sql: &'q str,
                r: &'q ConnectionRecord,
            ) -> StoreResult<sqlx::query::Query<'q, $db, Args<'q>>> {
                let poller = serde_json::to_string(&r.poller).map_err(|e| StoreError::Corrupt(e.to_string()))?;
                Ok(sqlx::query(sql)
                    .bind(&r.id)
                    .bind(&r.name)
                    .bind(&r.ghl_location_id)
                    .bind(&r.tovuti_base_url)
                    .bind(r.tovuti_auth_mode.as_str())
                    .bind(&r.mapping_path)
                    .bind(poller)
                    .bind(Millis::now().0))
            }

            #[async_trait::async_trait]
            impl $crate::store::ConnectionSettings for $store {
                async fn insert_connection(&self, r: &ConnectionRecord) -> StoreResult<Connection> {
                    let sql = format!(
                        "INSERT INTO connections (id, name, ghl_location_id, tovuti_base_url, tovuti_auth_mode, \
                         mapping_path, poller, created_at, updated_at) VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $8) \
                         RETURNING {CONNECTION_COLUMNS}"
                    );
                    let q = record_query(&sql, r)?;
                    let row = q
                        .fetch_one(self.writes())
                        .await
                        .map_err(|e| conflict_or_error(e, "a connection with this id or GHL location"))?;
                    connection_from_row(&row)
                }

                async fn update_connection(&self, r: &ConnectionRecord) -> StoreResult<Connection> {
                    let sql = format!(
                        "UPDATE connections SET name = $2, ghl_location_id = $3, tovuti_base_url = $4, \
                         tovuti_auth_mode = $5, mapping_path = $6, poller = $7, updated_at = $8 WHERE id = $1 \
                         RETURNING {CONNECTION_COLUMNS}"
                    );
                    let q = record_query(&sql, r)?;
                    let row = q
                        .fetch_optional(self.writes())
                        .await
                        .map_err(|e| conflict_or_error(e, "a connection with this GHL location"))?
                        .ok_or_else(|| StoreError::NotFound(format!("connection {}", r.id)))?;
                    connection_from_row(&row)
                }

                async fn touch_connection(&self, id: &str, now: Millis) -> StoreResult<()> {
                    // Strictly later than before, so two changes within a millisecond still differ.
                    let sql = "UPDATE connections SET updated_at = CASE WHEN updated_at >= $1 \
                               THEN updated_at + 1 ELSE $1 END WHERE id = $2";
                    let done = sqlx::query(sql).bind(now.0).bind(id).execute(self.writes()).await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound(format!("connection {id}")));
                    }
                    Ok(())
                }

                async fn set_connection_paused(&self, id: &str, paused: bool, now: Millis) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    let sql = "UPDATE connections SET paused_at = $1, updated_at = $2 WHERE id = $3";
                    let done = sqlx::query(sql)
                        .bind(paused.then_some(now.0))
                        .bind(now.0)
                        .bind(id)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound(format!("connection {id}")));
                    }
                    if !paused {
                        sqlx::query(WAKE_SQL).bind(now.0).bind(id).execute(&mut *tx).await?;
                    }
                    tx.commit().await?;
                    Ok(())
                }

                async fn remove_connection(&self, id: &str, now: Millis) -> StoreResult<()> {
                    let mut tx = self.begin_write().await?;
                    let sql = "UPDATE connections SET status = 'disconnected', status_reason = $3, \
                               ghl_location_id = NULL, paused_at = NULL, updated_at = $1 WHERE id = $2";
                    let done = sqlx::query(sql)
                        .bind(now.0)
                        .bind(id)
                        .bind($crate::store::REMOVED_REASON)
                        .execute(&mut *tx)
                        .await?;
                    if done.rows_affected() == 0 {
                        return Err(StoreError::NotFound(format!("connection {id}")));
                    }
                    for sql in [
                        "DELETE FROM connection_credentials WHERE connection_id = $1",
                        "DELETE FROM tovuti_webhook_secrets WHERE connection_id = $1",
                    ] {
                        sqlx::query(sql).bind(id).execute(&mut *tx).await?;
                    }
                    sqlx::query(WAKE_SQL).bind(now.0).bind(id).execute(&mut *tx).await?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn add_webhook_secret(
                    &self,
                    connection_id: &str,
                    s: &NewWebhookSecret,
                    older_expire_at: Millis,
                ) -> StoreResult<()> {
                    let sealed = self.cipher()?.seal(&s.secret, &webhook_secret_aad(connection_id, &s.id))?;
                    let mut tx = self.begin_write().await?;
                    let expire = "UPDATE tovuti_webhook_secrets SET expires_at = $1 \
                                  WHERE connection_id = $2 AND (expires_at IS NULL OR expires_at > $1)";
                    sqlx::query(expire).bind(older_expire_at.0).bind(connection_id).execute(&mut *tx).await?;
                    let insert = "INSERT INTO tovuti_webhook_secrets (id, connection_id, ciphertext, fingerprint, \
                                  created_at, expires_at) VALUES ($1, $2, $3, $4, $5, $6)";
                    sqlx::query(insert)
                        .bind(&s.id)
                        .bind(connection_id)
                        .bind(sealed)
                        .bind(&s.fingerprint)
                        .bind(s.created_at.0)
                        .bind(s.expires_at.map(|at| at.0))
                        .execute(&mut *tx)
                        .await
                        .map_err(|e| conflict_or_error(e, "a webhook secret with this id"))?;
                    tx.commit().await?;
                    Ok(())
                }

                async fn webhook_secrets(&self, connection_id: &str) -> StoreResult<Vec<StoredWebhookSecret>> {
                    let sql = "SELECT id, ciphertext, fingerprint, created_at, expires_at FROM tovuti_webhook_secrets \
                               WHERE connection_id = $1 ORDER BY created_at, id";
                    let rows = sqlx::query(sql).bind(connection_id).fetch_all(self.reads()).await?;
                    let mut secrets = Vec::with_capacity(rows.len());
                    for row in rows {
                        let id: String = row.try_get(0)?;
                        let ciphertext: Vec<u8> = row.try_get(1)?;
                        let secret = self.cipher()?.open(&ciphertext, &webhook_secret_aad(connection_id, &id))?;
                        secrets.push(StoredWebhookSecret {
                            id,
                            secret,
                            fingerprint: row.try_get(2)?,
                            created_at: Millis(row.try_get(3)?),
                            expires_at: row.try_get::<Option<i64>, _>(4)?.map(Millis),
                        });
                    }
                    Ok(secrets)
                }

                async fn revoke_webhook_secret(&self, connection_id: &str, secret_id: &str) -> StoreResult<bool> {
                    let sql = "DELETE FROM tovuti_webhook_secrets WHERE connection_id = $1 AND id = $2";
                    let done = sqlx::query(sql).bind(connection_id).bind(secret_id).execute(self.writes()).await?;
                    Ok(done.rows_affected() > 0)
                }
            }
        };
    };
}

pub(crate) use shared_connection_settings;
