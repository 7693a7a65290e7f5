//! The event queries: a filtered page, one event with its history, and replaying one.

use super::cursor::Kind;
use super::{Page, page_of};
use crate::store::{
    AttemptRecord, EventAction, EventId, EventQuery, EventStatus, EventSummary, Millis,
    ReplayFilter, Store, StoreResult, StoredEvent,
};

/// One page of the events `query` matches, last received first; `query.limit` is the
/// page size (the caller bounds it).
pub async fn list(store: &dyn Store, query: &EventQuery) -> StoreResult<Page<EventSummary>> {
    let mut fetch = query.clone();
    // One more than the page, to know whether a next page exists.
    fetch.limit = query.limit.saturating_add(1);
    let rows = store.list_events(&fetch).await?;
    Ok(page_of(rows, query.limit, Kind::Events, |e| e.seq))
}

/// An event with what happened to it.
#[derive(Debug, Clone)]
pub struct EventDetail {
    pub event: StoredEvent,
    pub attempts: Vec<AttemptRecord>,
    pub actions: Vec<EventAction>,
}

/// The event `id` with its attempts and action log, or None when there is no such event.
pub async fn detail(store: &dyn Store, id: EventId) -> StoreResult<Option<EventDetail>> {
    let Some(event) = store.event(id).await? else {
        return Ok(None);
    };
    let attempts = store.event_attempts(id).await?;
    let actions = store.event_actions(id).await?;
    Ok(Some(EventDetail {
        event,
        attempts,
        actions,
    }))
}

/// What asking to replay one event came to.
#[derive(Debug, Clone, PartialEq, Eq)]
pub enum ReplayOne {
    /// Back to pending with a fresh attempt budget; the event's connection, for the
    /// audit log.
    Queued {
        connection_id: Option<String>,
    },
    /// A worker holds it; replaying now would run it twice at once.
    Processing,
    NotFound,
}

/// Sends one event back to pending, whatever its status, unless a worker holds it. The
/// store's replay never touches a `processing` event, so a claim between the look and
/// the update also ends as `Processing`.
pub async fn replay_one(store: &dyn Store, id: EventId, now: Millis) -> StoreResult<ReplayOne> {
    let Some(event) = store.event(id).await? else {
        return Ok(ReplayOne::NotFound);
    };
    if event.status == EventStatus::Processing {
        return Ok(ReplayOne::Processing);
    }
    let filter = ReplayFilter {
        ids: vec![id],
        statuses: EventStatus::ALL
            .iter()
            .copied()
            .filter(|s| *s != EventStatus::Processing)
            .collect(),
        ..ReplayFilter::default()
    };
    match store.replay_events(&filter, now, false).await? {
        0 => Ok(ReplayOne::Processing),
        _ => Ok(ReplayOne::Queued {
            connection_id: event.connection_id,
        }),
    }
}

/// How many events a replay by `filter` matches (`dry_run`) or sent back to pending.
#[derive(Debug, Clone, Copy, PartialEq, Eq, serde::Serialize)]
pub struct ReplayCount {
    pub matched: u64,
    pub replayed: u64,
}

/// Replays the events `filter` matches through the store's replay (the one the `replay`
/// command uses); a dry run only counts them.
pub async fn replay_matching(
    store: &dyn Store,
    filter: &ReplayFilter,
    now: Millis,
    dry_run: bool,
) -> StoreResult<ReplayCount> {
    let matched = store.replay_events(filter, now, true).await?;
    let replayed = if dry_run {
        0
    } else {
        store.replay_events(filter, now, false).await?
    };
    Ok(ReplayCount { matched, replayed })
}
