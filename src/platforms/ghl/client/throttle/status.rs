//! One location's lane as this replica sees it, for operators: its quota, what this
//! replica sent in the current window, what GHL last reported, whether the lane is
//! paused and whether this replica holds it. Reading a status never creates a lane.

use std::time::Duration;

use tokio::time::Instant;

use super::{Lane, RateLimitSnapshot, Throttle, lock};

/// Which replica sends for a location.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum LaneHolder {
    /// One replica (SQLite): no lease, this process always sends.
    OnlyReplica,
    /// This replica holds the location's lane lease.
    ThisReplica,
    /// Another replica holds it, or nobody has sent for the location lately.
    NotThisReplica,
}

/// A snapshot of one location's lane.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct LaneStatus {
    /// The quota the lane spaces requests to (configured, or as GHL last reported it).
    pub max_requests: u32,
    pub interval: Duration,
    /// Requests this replica let through within the last `interval`.
    pub sent_in_window: usize,
    /// The `X-RateLimit-*` headers of GHL's last answer for the location.
    pub reported: Option<RateLimitSnapshot>,
    /// How long the lane stays paused (a 429's Retry-After, a spent day).
    pub paused_for: Option<Duration>,
    pub holder: LaneHolder,
}

impl Throttle {
    /// The lane of `location` now; an unused location reads as an idle lane.
    pub fn status(&self, location: &str) -> LaneStatus {
        let holder = match &self.ownership {
            None => LaneHolder::OnlyReplica,
            Some(ownership) if ownership.holds(location) => LaneHolder::ThisReplica,
            Some(_) => LaneHolder::NotThisReplica,
        };
        let idle = LaneStatus {
            max_requests: self.settings.max_requests,
            interval: self.settings.interval,
            sent_in_window: 0,
            reported: None,
            paused_for: None,
            holder,
        };
        let Some(lane) = lock(&self.lanes).get(location).cloned() else {
            return idle;
        };
        let (max_requests, interval) = lock(&lane.limiter).1;
        let now = Instant::now();
        let paused_until = *lock(&lane.paused_until);
        LaneStatus {
            max_requests,
            interval,
            sent_in_window: lane.sent_within(interval, now),
            reported: lock(&lane.last_seen).clone(),
            paused_for: paused_until
                .filter(|until| *until > now)
                .map(|until| until - now),
            holder,
        }
    }
}

impl Lane {
    /// Remembers a request let through, forgetting those older than the window.
    pub(super) fn note_sent(&self) {
        let interval = lock(&self.limiter).1.1;
        let now = Instant::now();
        let mut sent = lock(&self.sent);
        sent.push_back(now);
        while sent.front().is_some_and(|at| now - *at >= interval) {
            sent.pop_front();
        }
    }

    fn sent_within(&self, interval: Duration, now: Instant) -> usize {
        let sent = lock(&self.sent);
        sent.iter().filter(|at| now - **at < interval).count()
    }
}
