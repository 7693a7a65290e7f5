//! Whether an event's connection lets it sync now: gone or removed (the event ends
//! ignored), paused by an operator or waiting for new credentials (the event waits).

use super::{SyncEngine, SyncError};
use crate::store::{Connection, ConnectionStatus, StoredEvent};

impl SyncEngine {
    /// The event's connection when it may sync; `None` when it is gone or disconnected. A
    /// paused connection's events wait (stored, not sent) until it is resumed.
    pub(super) async fn connection(
        &self,
        event: &StoredEvent,
    ) -> Result<Option<Connection>, SyncError> {
        let Some(id) = &event.connection_id else {
            return Ok(None);
        };
        let Some(connection) = self.store.connection(id).await? else {
            return Ok(None);
        };
        match connection.status {
            ConnectionStatus::Disconnected => Ok(None),
            _ if connection.paused_at.is_some() => Err(SyncError::Paused),
            ConnectionStatus::Active => Ok(Some(connection)),
            ConnectionStatus::NeedsReauth => Err(SyncError::NeedsReauth(
                connection
                    .status_reason
                    .unwrap_or_else(|| "credentials were refused".into()),
            )),
        }
    }
}
