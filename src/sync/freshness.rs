//! A whole-record update older than the one last applied to its entity — a sender's late
//! redelivery, or deliveries that crossed on the network — must not roll the record back.
//! The time each entity's state was last applied is kept, and an older update is
//! superseded instead of applied.

use jiff::Timestamp;
use serde_json::json;

use super::errors::SyncError;
use crate::store::{Millis, Snapshot, Store};

fn key(entity: &str) -> String {
    format!("applied:{entity}")
}

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
    let applied = store.poll_snapshot(connection, &key(entity)).await?;
    let applied_ms = applied.and_then(|s| s.state.get("at_ms")?.as_i64());
    Ok(applied_ms.is_some_and(|ms| at.as_millisecond() < ms))
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
    let snapshot = Snapshot {
        digest: String::new(),
        state: json!({ "at_ms": at.as_millisecond() }),
        updated_at: Millis::now(),
    };
    store
        .save_poll_snapshot(connection, &key(entity), &snapshot)
        .await?;
    Ok(())
}
