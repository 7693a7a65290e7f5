//! One entity's whole-record updates: of several waiting, only the newest is applied (the
//! rest are superseded), and one older than the state already applied is superseded
//! rather than applied.

use super::{SyncEngine, SyncError, freshness};
use crate::store::{Completion, Connection, Millis, StoredEvent};

/// Event types that carry a whole record's state: of several pending for one entity,
/// only the newest is applied (the rest are superseded).
const STATE_UPDATES: &[&str] = &["user.updated", "ContactUpdate"];

impl SyncEngine {
    /// A whole-record update older than the state already applied to its entity is
    /// ended as superseded rather than applied (it would roll the record back).
    pub(super) async fn stale(
        &self,
        event: &StoredEvent,
        connection: &Connection,
        at: Option<jiff::Timestamp>,
    ) -> Result<bool, SyncError> {
        let Some(entity) = state_update_entity(event) else {
            return Ok(false);
        };
        if !freshness::is_stale(self.store.as_ref(), &connection.id, entity, at).await? {
            return Ok(false);
        }
        tracing::info!(event.id = %event.id, "an update older than the applied state was superseded");
        self.metrics.events_superseded.inc();
        self.store
            .complete_event(event.id, &self.owner, Completion::Superseded)
            .await?;
        Ok(true)
    }

    pub(super) async fn applied(
        &self,
        event: &StoredEvent,
        connection: &Connection,
        at: Option<jiff::Timestamp>,
    ) -> Result<(), SyncError> {
        match state_update_entity(event) {
            Some(entity) => {
                freshness::remember_applied(self.store.as_ref(), &connection.id, entity, at).await
            }
            None => Ok(()),
        }
    }

    /// Supersedes the event and the older waiting ones when a newer update of the entity
    /// waits. Only an event whose claim saw a newer one waiting asks the store: most have
    /// none, and one that arrived since is applied after this one, in order.
    pub(super) async fn superseded(&self, event: &StoredEvent) -> Result<bool, SyncError> {
        let Some(entity) = state_update_entity(event).filter(|_| event.newer_waiting) else {
            return Ok(false);
        };
        let count = self
            .store
            .supersede_if_newer(
                event.id,
                &self.owner,
                entity,
                &event.event_type,
                Millis::now(),
            )
            .await?;
        self.metrics.events_superseded.inc_by(count);
        if count > 0 {
            tracing::debug!(event.id = %event.id, superseded = count, "older state updates superseded");
        }
        Ok(count > 0)
    }
}

/// The entity of a whole-record state update; `None` for any other event.
fn state_update_entity(event: &StoredEvent) -> Option<&str> {
    let entity = event.entity_key.as_deref()?;
    STATE_UPDATES
        .contains(&event.event_type.as_str())
        .then_some(entity)
}
