//! Spent OAuth install states, on either backend.

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
            }
        };
    };
}

pub(crate) use shared_oauth_states;
