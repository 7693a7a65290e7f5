//! Spent OAuth install states and those bound to a connection (install links), on
//! either backend.

/// Implements `OauthStates` for `$store`.
macro_rules! shared_oauth_states {
    ($store:ty) => {
        const _: () = {
            use async_trait::async_trait;

            use $crate::store::{Millis, OauthStates, StoreResult};

            #[async_trait]
            impl OauthStates for $store {
                async fn spend_oauth_state(
                    &self,
                    nonce: &str,
                    keep_until: Millis,
                    now: Millis,
                ) -> StoreResult<bool> {
                    sqlx::query("DELETE FROM oauth_states_used WHERE expires_at < $1")
                        .bind(now.0)
                        .execute(self.writes())
                        .await?;
                    // The primary key makes the spend atomic: of two callbacks racing with one
                    // state, exactly one inserts.
                    let sql = "INSERT INTO oauth_states_used (nonce, expires_at) VALUES ($1, $2) \
                               ON CONFLICT (nonce) DO NOTHING";
                    let inserted = sqlx::query(sql)
                        .bind(nonce)
                        .bind(keep_until.0)
                        .execute(self.writes())
                        .await?;
                    Ok(inserted.rows_affected() == 1)
                }

                async fn bind_oauth_state(
                    &self,
                    nonce: &str,
                    connection_id: &str,
                    expires_at: Millis,
                    now: Millis,
                ) -> StoreResult<()> {
                    sqlx::query("DELETE FROM oauth_state_connections WHERE expires_at < $1")
                        .bind(now.0)
                        .execute(self.writes())
                        .await?;
                    let sql = "INSERT INTO oauth_state_connections (nonce, connection_id, expires_at) \
                               VALUES ($1, $2, $3)";
                    sqlx::query(sql)
                        .bind(nonce)
                        .bind(connection_id)
                        .bind(expires_at.0)
                        .execute(self.writes())
                        .await?;
                    Ok(())
                }

                async fn oauth_state_connection(&self, nonce: &str) -> StoreResult<Option<String>> {
                    use sqlx::Row as _;
                    let sql = "SELECT connection_id FROM oauth_state_connections WHERE nonce = $1";
                    let row = sqlx::query(sql)
                        .bind(nonce)
                        .fetch_optional(self.reads())
                        .await?;
                    Ok(row.map(|r| r.get(0)))
                }
            }
        };
    };
}

pub(crate) use shared_oauth_states;
