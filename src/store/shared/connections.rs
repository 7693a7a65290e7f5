//! Connections and their credentials, on either backend.

/// Implements `Connections` for `$store`.
macro_rules! shared_connections {
    ($store:ty) => {
        const _: () = {
            use async_trait::async_trait;
            use secrecy::SecretString;
            use sqlx::Row;

            use $crate::store::crypto::credential_aad;
            use $crate::store::rows::{CONNECTION_COLUMNS, connection_from_row, json};
            use $crate::store::{
                Connection, ConnectionStatus, Connections, Credentials, Millis, NewConnection, StoreError, StoreResult,
            };
            impl $store {
                fn cipher(&self) -> StoreResult<&$crate::store::Cipher> {
                    self.cipher.as_ref().ok_or(StoreError::EncryptionKeyMissing)
                }
            }

            #[async_trait]
            impl Connections for $store {
                async fn upsert_connection(&self, c: &NewConnection) -> StoreResult<Connection> {
                    let sql = format!(
                        "INSERT INTO connections (id, ghl_location_id, tovuti_base_url, created_at, updated_at) \
                         VALUES ($1, $2, $3, $4, $4) ON CONFLICT (id) DO UPDATE SET ghl_location_id = excluded.ghl_location_id, \
                         tovuti_base_url = excluded.tovuti_base_url, updated_at = excluded.updated_at \
                         RETURNING {CONNECTION_COLUMNS}"
                    );
                    let q = sqlx::query(&sql)
                        .bind(&c.id)
                        .bind(&c.ghl_location_id)
                        .bind(&c.tovuti_base_url);
                    connection_from_row(&q.bind(Millis::now().0).fetch_one(self.writes()).await?)
                }

                async fn connection(&self, id: &str) -> StoreResult<Option<Connection>> {
                    let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections WHERE id = $1");
                    let row = sqlx::query(&sql)
                        .bind(id)
                        .fetch_optional(self.reads())
                        .await?;
                    row.as_ref().map(connection_from_row).transpose()
                }

                async fn connection_for_location(&self, location_id: &str) -> StoreResult<Option<Connection>> {
                    let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections WHERE ghl_location_id = $1");
                    let row = sqlx::query(&sql)
                        .bind(location_id)
                        .fetch_optional(self.reads())
                        .await?;
                    row.as_ref().map(connection_from_row).transpose()
                }

                async fn list_connections(&self) -> StoreResult<Vec<Connection>> {
                    let sql = format!("SELECT {CONNECTION_COLUMNS} FROM connections ORDER BY id");
                    sqlx::query(&sql)
                        .fetch_all(self.reads())
                        .await?
                        .iter()
                        .map(connection_from_row)
                        .collect()
                }

                async fn set_connection_status(
                    &self,
                    id: &str,
                    status: ConnectionStatus,
                    reason: Option<&str>,
                ) -> StoreResult<()> {
                    let sql =
                        "UPDATE connections SET status = $1, status_reason = $2, updated_at = $3 WHERE id = $4";
                    let q = sqlx::query(sql)
                        .bind(status.as_str())
                        .bind(reason)
                        .bind(Millis::now().0)
                        .bind(id);
                    if q.execute(self.writes()).await?.rows_affected() == 0 {
                        return Err(StoreError::NotFound(format!("connection {id}")));
                    }
                    Ok(())
                }

                async fn save_credentials(
                    &self,
                    connection_id: &str,
                    kind: &str,
                    secret: &SecretString,
                    metadata: &serde_json::Value,
                ) -> StoreResult<()> {
                    let sealed = self
                        .cipher()?
                        .seal(secret, &credential_aad(connection_id, kind))?;
                    let sql = "INSERT INTO connection_credentials (connection_id, kind, ciphertext, metadata, updated_at) \
                               VALUES ($1, $2, $3, $4, $5) ON CONFLICT (connection_id, kind) DO UPDATE SET \
                               ciphertext = excluded.ciphertext, metadata = excluded.metadata, updated_at = excluded.updated_at";
                    let q = sqlx::query(sql)
                        .bind(connection_id)
                        .bind(kind)
                        .bind(sealed)
                        .bind(metadata.to_string());
                    q.bind(Millis::now().0).execute(self.writes()).await?;
                    Ok(())
                }

                async fn load_credentials(
                    &self,
                    connection_id: &str,
                    kind: &str,
                ) -> StoreResult<Option<Credentials>> {
                    let sql = "SELECT ciphertext, metadata, updated_at FROM connection_credentials \
                               WHERE connection_id = $1 AND kind = $2";
                    let Some(row) = sqlx::query(sql)
                        .bind(connection_id)
                        .bind(kind)
                        .fetch_optional(self.reads())
                        .await?
                    else {
                        return Ok(None);
                    };
                    let ciphertext: Vec<u8> = row.try_get(0)?;
                    let secret = self
                        .cipher()?
                        .open(&ciphertext, &credential_aad(connection_id, kind))?;
                    let metadata = json(&row.try_get::<String, _>(1)?)?;
                    Ok(Some(Credentials {
                        secret,
                        metadata,
                        updated_at: Millis(row.try_get(2)?),
                    }))
                }

                async fn erase_credentials(&self, connection_id: &str) -> StoreResult<u64> {
                    let sql = "DELETE FROM connection_credentials WHERE connection_id = $1";
                    Ok(sqlx::query(sql)
                        .bind(connection_id)
                        .execute(self.writes())
                        .await?
                        .rows_affected())
                }
            }
        };
    };
}

pub(crate) use shared_connections;
