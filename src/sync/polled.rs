//! A pushed Tovuti event, once applied, is remembered in the poller's snapshot of its
//! entity, so the poller's next scan does not queue the same change a second time.
//!
//! A pushed user carries the whole record, so its digest is taken as the poller would
//! take it (a partial object differs and costs one idempotent `user.updated`). Progress
//! and awards arrive without the fields the poller digests, so only what decides their
//! events is remembered: the enrollment exists, the course is complete, the award is
//! earned. The poller then sees a different digest, and a change of an enrollment that is
//! already complete, or of an award already earned, queues nothing.

use crate::platforms::tovuti::TovutiEvent;
use crate::platforms::tovuti::snapshots::{self, SnapshotState};
use crate::store::{Millis, Snapshot, Store};

use super::errors::SyncError;

/// Stands for "seen through a push" where the poller's digest cannot be computed.
const PUSHED: &str = "pushed";

pub async fn remember_pushed(
    store: &dyn Store,
    connection: &str,
    event: &TovutiEvent,
) -> Result<(), SyncError> {
    let (key, digest, completed) = match event {
        TovutiEvent::UserCreated(d) | TovutiEvent::UserUpdated(d) => (
            snapshots::user_key(d.user.id),
            Some(snapshots::user_digest(&d.user)),
            false,
        ),
        TovutiEvent::EnrollmentCreated(d) => {
            (snapshots::progress_key(d.user.id, d.course.id), None, false)
        }
        TovutiEvent::CourseCompleted(d) => {
            (snapshots::progress_key(d.user.id, d.course.id), None, true)
        }
        TovutiEvent::AwardEarned(d) => (snapshots::award_key(d.user.id, d.award.id), None, false),
        _ => return Ok(()),
    };
    let before = store.poll_snapshot(connection, &key).await?;
    let old = before.as_ref().map(|s| SnapshotState::from_json(&s.state));
    let digest = digest
        .or_else(|| before.as_ref().map(|s| s.digest.clone()))
        .unwrap_or_else(|| PUSHED.to_owned());
    let completed = completed || old.is_some_and(|o| o.completed);
    if let (Some(before), Some(old)) = (&before, old)
        && before.digest == digest
        && old.completed == completed
    {
        return Ok(());
    }
    let state = SnapshotState {
        seq: old.map_or(0, |o| o.seq) + 1,
        emitted: true,
        completed,
    };
    let snapshot = Snapshot {
        digest,
        state: state.to_json(),
        updated_at: Millis::now(),
    };
    store
        .save_poll_snapshot(connection, &key, &snapshot)
        .await?;
    Ok(())
}
