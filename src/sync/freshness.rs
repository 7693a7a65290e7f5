//! A whole-record update older than the one last applied to its entity — a sender's late
//! redelivery, or deliveries that crossed on the network — must not roll the record back.
//! The time each entity's state was last applied is kept, and an older update is
//! superseded instead of applied.

use jiff::Timestamp;

use super::errors::SyncError;
use crate::store::{Millis, Store};

/// Whether an update that happened at `at` is older than what was applied already.
pub async fn is_stale(
    store: &dyn Store,
    connection: &str,
    entity: &str,
    at: Option<Timestamp>,
) -> Result<bool, SyncError> {
    let Some(at) = at else {
        return Ok(false);
    };
    let applied = store.applied_at(connection, entity).await?;
    Ok(applied.is_some_and(|applied| at.as_millisecond() < applied.0))
}

/// Records that the entity's state as of `at` is applied.
pub async fn remember_applied(
    store: &dyn Store,
    connection: &str,
    entity: &str,
    at: Option<Timestamp>,
) -> Result<(), SyncError> {
    let Some(at) = at else {
        return Ok(());
    };
    let at = Millis(at.as_millisecond());
    store.remember_applied(connection, entity, at).await?;
    Ok(())
}
