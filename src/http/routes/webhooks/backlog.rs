//! Back-pressure on the inbox: past the configured number of unfinished events, deliveries
//! are refused with 429 so the senders keep them until the worker catches up.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use crate::store::{EventStatus, Millis, Store};

/// Statuses that still need the worker.
const UNFINISHED: [EventStatus; 3] = [
    EventStatus::Pending,
    EventStatus::Processing,
    EventStatus::Retrying,
];

#[derive(Debug)]
pub struct Backlog {
    /// 0: no bound.
    bound: u64,
    /// 0: count on every request (tests, small installations).
    every_ms: i64,
    checked_at: AtomicI64,
    count: AtomicU64,
    refreshing: AtomicBool,
}

impl Backlog {
    pub fn new(bound: u64, every_ms: u64) -> Self {
        Self {
            bound,
            every_ms: i64::try_from(every_ms).unwrap_or(i64::MAX),
            checked_at: AtomicI64::new(i64::MIN),
            count: AtomicU64::new(0),
            refreshing: AtomicBool::new(false),
        }
    }

    /// Whether the inbox is over its bound. Counting is a scan, so it runs at most every
    /// `every_ms`, in the background: a request never waits for it, except for the first
    /// count or when counting on every request is configured.
    pub async fn is_over(self: &Arc<Self>, store: &Arc<dyn Store>, now: Millis) -> bool {
        if self.bound == 0 {
            return false;
        }
        let checked_at = self.checked_at.load(Ordering::Relaxed);
        if self.every_ms == 0 || checked_at == i64::MIN {
            self.refresh(store.as_ref(), now).await;
        } else if now.0.saturating_sub(checked_at) >= self.every_ms
            && !self.refreshing.swap(true, Ordering::AcqRel)
        {
            let (this, store) = (Arc::clone(self), Arc::clone(store));
            tokio::spawn(async move {
                this.refresh(store.as_ref(), now).await;
                this.refreshing.store(false, Ordering::Release);
            });
        }
        self.count.load(Ordering::Relaxed) >= self.bound
    }

    /// A failed count keeps the previous one: the store error itself surfaces on insert.
    /// Only open events are read (an index range), so the count stays cheap however many
    /// finished events the inbox keeps.
    async fn refresh(&self, store: &dyn Store, now: Millis) {
        if let Ok(open) = store.open_events_summary().await {
            let unfinished = open
                .iter()
                .filter(|o| UNFINISHED.contains(&o.status))
                .map(|o| o.count)
                .sum();
            self.count.store(unfinished, Ordering::Relaxed);
        }
        self.checked_at.store(now.0, Ordering::Relaxed);
    }
}
