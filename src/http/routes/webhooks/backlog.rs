//! Back-pressure on the inbox: past the configured number of unfinished events, deliveries
//! are refused with 429 so the senders keep them until the worker catches up.
//!
//! Counting is a query, so it runs at most every `backlog_check_ms`, in the background.
//! Between two counts every admission takes a place from what is left of the bound (one
//! atomic step, no query), so a burst cannot overshoot the bound while the count is stale.

use std::sync::Arc;
use std::sync::atomic::{AtomicBool, AtomicI64, AtomicU64, Ordering};

use crate::store::{EventStatus, Millis, Store};

/// Statuses that still need the worker.
const UNFINISHED: [EventStatus; 3] = [
    EventStatus::Pending,
    EventStatus::Processing,
    EventStatus::Retrying,
];

/// Whether an event stored with `status` counts against the bound.
pub fn is_unfinished(status: EventStatus) -> bool {
    UNFINISHED.contains(&status)
}

/// The bound is held within one process. What other replicas, the pollers and replays add
/// between two counts is seen at the next count only, so with several replicas the inbox
/// can exceed the bound by what they admit in one `backlog_check_ms`; so can an insert
/// that the store deadline cut short but that committed after all.
#[derive(Debug)]
pub struct Backlog {
    /// 0: no bound.
    bound: u64,
    /// 0: count on every request (tests, small installations).
    every_ms: i64,
    checked_at: AtomicI64,
    /// Unfinished events at the last count.
    counted: AtomicU64,
    /// Places of deliveries being stored (low half) and of events committed since the
    /// last count began (high half), in one word so that a place moves from one to the
    /// other in a single step.
    places: AtomicU64,
    refreshing: AtomicBool,
    /// One count at a time: a count forgets the committed places it is sure to have seen.
    counting: tokio::sync::Mutex<()>,
}

/// One place being stored.
const IN_FLIGHT: u64 = 1;
/// One committed place.
const COMMITTED: u64 = 1 << 32;
const HALF: u64 = COMMITTED - 1;

impl Backlog {
    pub fn new(bound: u64, every_ms: u64) -> Self {
        Self {
            bound: bound.min(HALF),
            every_ms: i64::try_from(every_ms).unwrap_or(i64::MAX),
            checked_at: AtomicI64::new(i64::MIN),
            counted: AtomicU64::new(0),
            places: AtomicU64::new(0),
            refreshing: AtomicBool::new(false),
            counting: tokio::sync::Mutex::new(()),
        }
    }

    /// A place for one more event, or None when the inbox is at its bound. A request never
    /// waits for a count, except for the first one or when counting on every request is
    /// configured. The place is given back when dropped, unless it is kept because the
    /// event was stored as new work.
    pub async fn admit(self: &Arc<Self>, store: &Arc<dyn Store>, now: Millis) -> Option<Place> {
        if self.bound == 0 {
            return Some(Place(None));
        }
        let checked_at = self.checked_at.load(Ordering::Acquire);
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
        let taken = self
            .places
            .fetch_update(Ordering::AcqRel, Ordering::Acquire, |places| {
                let taken = (places & HALF) + (places >> 32);
                let open = self.counted.load(Ordering::Acquire).saturating_add(taken);
                (open < self.bound).then_some(places + IN_FLIGHT)
            });
        taken.ok().map(|_| Place(Some(Arc::clone(self))))
    }

    /// Takes a fresh count. It then forgets the places of events committed before it
    /// began, which it saw; those committed while it ran stay counted, though it may have
    /// seen them too, so the estimate errs high until the next count, never low. A failed
    /// count keeps the previous one: the store error itself surfaces on insert. Only open
    /// events are read (an index range), so the count stays cheap however many finished
    /// events the inbox keeps.
    pub(super) async fn refresh(&self, store: &dyn Store, now: Millis) {
        let checked_at = self.checked_at.load(Ordering::Acquire);
        let _one_at_a_time = self.counting.lock().await;
        // The first deliveries all wait for one count; those that queued behind it use it.
        let first_count_done =
            checked_at == i64::MIN && self.checked_at.load(Ordering::Acquire) != i64::MIN;
        if first_count_done && self.every_ms != 0 {
            return;
        }
        let seen = self.places.load(Ordering::Acquire) >> 32;
        if let Ok(open) = store.open_events_summary().await {
            let unfinished = open
                .iter()
                .filter(|o| UNFINISHED.contains(&o.status))
                .map(|o| o.count)
                .sum();
            // Counted first, then forgotten: in between the estimate is high, not low.
            self.counted.store(unfinished, Ordering::Release);
            // Only a count lowers the committed half, and counts take turns: it holds
            // at least `seen`.
            self.places.fetch_sub(seen * COMMITTED, Ordering::AcqRel);
        }
        self.checked_at.store(now.0, Ordering::Release);
    }
}

/// One admitted delivery's place in the backlog while it is stored; given back on drop
/// unless kept.
#[derive(Debug)]
#[must_use = "a place is given back when dropped"]
pub struct Place(Option<Arc<Backlog>>);

impl Place {
    /// The event was committed as unfinished work: it holds its place until a count
    /// that began after the commit forgets it.
    pub fn keep(mut self) {
        if let Some(backlog) = self.0.take() {
            backlog
                .places
                .fetch_add(COMMITTED - IN_FLIGHT, Ordering::AcqRel);
        }
    }
}

impl Drop for Place {
    fn drop(&mut self) {
        if let Some(backlog) = self.0.take() {
            backlog.places.fetch_sub(IN_FLIGHT, Ordering::AcqRel);
        }
    }
}

#[cfg(test)]
#[path = "backlog_tests.rs"]
mod tests;
