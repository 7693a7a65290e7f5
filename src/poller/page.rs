//! One page of a scan, applied: read the page's snapshots in one query, decide, queue the
//! events of what changed, then save the changed snapshots in one transaction. Events go
//! first, so a crash in between re-finds the change, and the change's external id (its
//! entity, sequence number and digest) makes the second recording a duplicate.

use std::collections::HashMap;

use futures::future::try_join_all;
use serde_json::json;

use super::detect::{self, Change, Decision, Policy, Polled};
use super::{PageCounts, PollContext, PollError};
use crate::platforms::tovuti::TovutiWebhook;
use crate::platforms::tovuti::snapshots::SnapshotState;
use crate::store::{EventStatus, NewEvent, Recorded, Snapshot, Source};
use crate::telemetry::PollChangeLabels;

/// How far a page's application went.
#[derive(Debug, Default)]
pub struct Applied {
    pub counts: PageCounts,
    pub events: u64,
    pub snapshots_saved: u64,
    /// The backfill limit was reached before the page's end.
    pub limit_reached: bool,
}

/// The entities decided on, with what they need written.
struct Pending {
    key: String,
    digest: String,
    state: SnapshotState,
    changes: Vec<Change>,
}

pub async fn apply<T: Polled>(
    ctx: &PollContext,
    items: &[T],
    policy: Policy,
    dry_run: bool,
    mut room: Option<u64>,
) -> Result<Applied, PollError> {
    let keys: Vec<String> = items.iter().map(Polled::key).collect();
    let before = ctx.store.poll_snapshots(&ctx.connection, &keys).await?;
    let mut applied = Applied::default();
    applied.counts.scanned = items.len() as u64;
    let mut pending = Vec::new();
    for (item, key) in items.iter().zip(keys) {
        if room == Some(0) {
            applied.limit_reached = true;
            break;
        }
        match decide(item, &before, &key, policy) {
            Decision::Unchanged => {}
            Decision::AlreadyQueued => applied.counts.already_queued += 1,
            Decision::Record {
                digest,
                state,
                changes,
            } => {
                if !changes.is_empty() {
                    room = room.map(|r| r - 1);
                }
                pending.push(Pending {
                    key,
                    digest,
                    state,
                    changes,
                });
            }
        }
    }
    if dry_run {
        applied.counts.queued = pending.iter().filter(|p| !p.changes.is_empty()).count() as u64;
        return Ok(applied);
    }
    let recorded = try_join_all(pending.iter().map(|p| record_changes::<T>(ctx, p))).await?;
    for (new, duplicate) in recorded.iter().copied() {
        applied.events += new + duplicate;
        match (new, duplicate) {
            (0, 0) => {}
            (0, _) => applied.counts.already_queued += 1,
            _ => applied.counts.queued += 1,
        }
    }
    let now = ctx.clock.now();
    let snapshots: Vec<(String, Snapshot)> = pending
        .into_iter()
        .map(|p| {
            let snapshot = Snapshot {
                digest: p.digest,
                state: p.state.to_json(),
                updated_at: now,
            };
            (p.key, snapshot)
        })
        .collect();
    ctx.store
        .save_poll_snapshots(&ctx.connection, &snapshots)
        .await?;
    applied.snapshots_saved = snapshots.len() as u64;
    Ok(applied)
}

fn decide<T: Polled>(
    item: &T,
    before: &HashMap<String, Snapshot>,
    key: &str,
    policy: Policy,
) -> Decision {
    let before = before
        .get(key)
        .map(|s| (s.digest.as_str(), SnapshotState::from_json(&s.state)));
    detect::decide(item, before, policy)
}

/// Records one entity's events in order; returns (new, duplicate) counts.
async fn record_changes<T: Polled>(
    ctx: &PollContext,
    pending: &Pending,
) -> Result<(u64, u64), PollError> {
    let (mut new, mut duplicate) = (0, 0);
    for change in &pending.changes {
        match ctx.store.record_event(event(ctx, pending, change)).await? {
            Recorded::New(_) => {
                new += 1;
                count_change(ctx, T::RESOURCE.as_str(), change.event_type);
            }
            Recorded::Duplicate(_) => duplicate += 1,
        }
    }
    Ok((new, duplicate))
}

/// The inbox row of one change: a Tovuti envelope under an id that names the entity,
/// its change number, the state's digest and the event type.
fn event(ctx: &PollContext, pending: &Pending, change: &Change) -> NewEvent {
    let digest = pending.digest.get(..16).unwrap_or(&pending.digest);
    let id = format!(
        "poll:{}:{}:{digest}:{}",
        pending.key, pending.state.seq, change.event_type
    );
    let now = ctx.clock.now();
    let occurred_at = change
        .occurred_at
        .or_else(|| jiff::Timestamp::from_millisecond(now.0).ok())
        .map(|t| t.to_string());
    let body = json!({
        "id": id,
        "type": change.event_type,
        "occurred_at": occurred_at,
        "data": change.data,
    })
    .to_string();
    // The key the webhook route would give the same event, so pushed and polled events
    // of one learner queue behind each other.
    let entity_key = TovutiWebhook::parse(body.as_bytes())
        .ok()
        .map(|webhook| webhook.entity_key().into());
    NewEvent {
        source: Source::Poller,
        connection_id: Some(ctx.connection.clone()),
        external_id: format!("{}/{id}", ctx.connection),
        event_type: change.event_type.to_owned(),
        entity_key,
        headers: json!({}),
        body: body.into(),
        status: EventStatus::Pending,
        note: None,
        received_at: now,
    }
}

fn count_change(ctx: &PollContext, resource: &str, event_type: &str) {
    let labels = PollChangeLabels {
        connection: ctx.connection.clone(),
        resource: resource.to_owned(),
        event_type: event_type.to_owned(),
    };
    ctx.metrics.poll.changes.get_or_create(&labels).inc();
}
