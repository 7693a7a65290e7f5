//! The console's sign-in sessions, kept in the database so that every replica honours
//! them: stored by the SHA-256 of their id, never the id.

use async_trait::async_trait;

use super::{Millis, StoreResult};

/// A session to store at sign-in.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct NewConsoleSession {
    /// Hex SHA-256 of the id the cookie carries.
    pub id_hash: String,
    /// Names the admin token signed in with (never the token).
    pub token_id: String,
    /// `full` or `read_only`.
    pub access: String,
    pub created_at: Millis,
    /// The end of its absolute lifetime.
    pub expires_at: Millis,
}

/// A live session as a request finds it.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConsoleSession {
    pub token_id: String,
    pub access: String,
}

/// The console's sessions. A session is live while `now` is before its `expires_at` and
/// it was last seen after `idle_before` (now less the idle timeout).
#[async_trait]
pub trait ConsoleSessions: Send + Sync {
    /// Stores a new session, first deleting the ended ones so the table stays small.
    async fn open_console_session(
        &self,
        session: &NewConsoleSession,
        idle_before: Millis,
    ) -> StoreResult<()>;
    /// The live session `id_hash` names, marked seen at `now`; `None` (and an ended
    /// session deleted) otherwise.
    async fn touch_console_session(
        &self,
        id_hash: &str,
        now: Millis,
        idle_before: Millis,
    ) -> StoreResult<Option<ConsoleSession>>;
    /// Ends the session `id_hash` names (sign-out), on every replica at once.
    async fn end_console_session(&self, id_hash: &str) -> StoreResult<()>;
    /// Deletes every ended session; returns how many.
    async fn prune_console_sessions(&self, now: Millis, idle_before: Millis) -> StoreResult<u64>;
}
