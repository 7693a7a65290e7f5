//! Echo suppression: the fingerprint of what the service last wrote to a side, so an
//! incoming record in exactly that state is known as the service's own write coming back.

use super::{SyncEngine, SyncError};
use crate::mapping::Plan;
use crate::store::{Connection, Direction, Millis};

impl SyncEngine {
    /// An incoming record whose mapped state is exactly what the service last wrote to
    /// that side is the service's own write coming back: not forwarded.
    pub(super) async fn is_echo(
        &self,
        connection: &Connection,
        entity: &str,
        direction: Direction,
        plan: &Plan,
    ) -> Result<bool, SyncError> {
        let Some(incoming) = &plan.source_fingerprint else {
            return Ok(false);
        };
        let last = self
            .store
            .last_written_fingerprint(&connection.id, entity, direction)
            .await?;
        Ok(last.as_deref() == Some(incoming.as_str()))
    }

    pub(super) async fn remember_written(
        &self,
        connection: &Connection,
        entity: &str,
        direction: Direction,
        fingerprint: &str,
    ) -> Result<(), SyncError> {
        self.store
            .remember_written_fingerprint(
                &connection.id,
                entity,
                direction,
                fingerprint,
                Millis::now(),
            )
            .await?;
        Ok(())
    }
}
