//! The console's sessions, on either backend.

/// Implements `ConsoleSessions` for `$store`.
macro_rules! shared_console_sessions {
    ($store:ty) => {
        const _: () = {
            use async_trait::async_trait;
            use sqlx::Row as _;

            use $crate::store::{
                ConsoleSession, ConsoleSessions, Millis, NewConsoleSession, StoreResult,
            };

            #[async_trait]
            impl ConsoleSessions for $store {
                async fn open_console_session(
                    &self,
                    session: &NewConsoleSession,
                    idle_before: Millis,
                ) -> StoreResult<()> {
                    self.prune_console_sessions(session.created_at, idle_before).await?;
                    let sql = "INSERT INTO console_sessions \
                               (id_hash, token_id, access, created_at, last_seen_at, expires_at) \
                               VALUES ($1, $2, $3, $4, $4, $5)";
                    sqlx::query(sql)
                        .bind(session.id_hash.as_str())
                        .bind(session.token_id.as_str())
                        .bind(session.access.as_str())
                        .bind(session.created_at.0)
                        .bind(session.expires_at.0)
                        .execute(self.writes())
                        .await?;
                    Ok(())
                }

                async fn touch_console_session(
                    &self,
                    id_hash: &str,
                    now: Millis,
                    idle_before: Millis,
                ) -> StoreResult<Option<ConsoleSession>> {
                    // One statement checks both clocks and moves the idle one, so two
                    // replicas touching at once cannot revive an ended session.
                    let sql = "UPDATE console_sessions SET last_seen_at = $1 \
                               WHERE id_hash = $2 AND expires_at > $1 AND last_seen_at > $3 \
                               RETURNING token_id, access";
                    let row = sqlx::query(sql)
                        .bind(now.0)
                        .bind(id_hash)
                        .bind(idle_before.0)
                        .fetch_optional(self.writes())
                        .await?;
                    match row {
                        Some(row) => Ok(Some(ConsoleSession {
                            token_id: row.try_get(0)?,
                            access: row.try_get(1)?,
                        })),
                        None => {
                            self.end_console_session(id_hash).await?;
                            Ok(None)
                        }
                    }
                }

                async fn end_console_session(&self, id_hash: &str) -> StoreResult<()> {
                    sqlx::query("DELETE FROM console_sessions WHERE id_hash = $1")
                        .bind(id_hash)
                        .execute(self.writes())
                        .await?;
                    Ok(())
                }

                async fn prune_console_sessions(
                    &self,
                    now: Millis,
                    idle_before: Millis,
                ) -> StoreResult<u64> {
                    let sql = "DELETE FROM console_sessions \
                               WHERE expires_at <= $1 OR last_seen_at <= $2";
                    let done = sqlx::query(sql)
                        .bind(now.0)
                        .bind(idle_before.0)
                        .execute(self.writes())
                        .await?;
                    Ok(done.rows_affected())
                }
            }
        };
    };
}

pub(crate) use shared_console_sessions;
