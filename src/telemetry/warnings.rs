//! Repeated warnings, aggregated: the first of a kind is logged in full, the rest of its
//! interval are counted and reported in one summary line when the interval ends. During
//! a database outage a warning per webhook would otherwise bury everything else.

use std::sync::{Mutex, MutexGuard, PoisonError};
use std::time::Duration;

use tokio::time::Instant;

/// How long after a logged warning the same kind is only counted.
pub const WARN_INTERVAL: Duration = Duration::from_secs(60);

/// Webhook intake could not commit a delivery and answered 429 + Retry-After.
pub static WEBHOOK_NOT_STORED: RateLimitedWarn =
    RateLimitedWarn::new("webhook not stored; sender asked to retry", WARN_INTERVAL);
/// A mapped value did not convert; the rest of the record was synced.
pub static FIELD_NOT_SYNCED: RateLimitedWarn =
    RateLimitedWarn::new("a field was not synced", WARN_INTERVAL);
/// The service answered 502/503/504: degraded (store outage, draining, not configured).
pub static RESPONSE_UNAVAILABLE: RateLimitedWarn =
    RateLimitedWarn::new("response failed", WARN_INTERVAL);

/// The worker could not claim events (the store is failing); it tries again each poll.
pub static CLAIM_FAILED: RateLimitedWarn =
    RateLimitedWarn::new("could not claim events", WARN_INTERVAL);
/// The worker could not record how an attempt ended; the lease expires and it is tried again.
pub static OUTCOME_NOT_RECORDED: RateLimitedWarn =
    RateLimitedWarn::new("could not record an event's outcome", WARN_INTERVAL);

/// One kind of warning and its current interval.
pub struct RateLimitedWarn {
    /// The warning's message, repeated in the summary so both lines are found together.
    kind: &'static str,
    interval: Duration,
    window: Mutex<Window>,
}

struct Window {
    /// When the current interval ends; `None` before the first occurrence.
    until: Option<Instant>,
    /// Occurrences counted but not logged in the current interval.
    suppressed: u64,
    /// Which interval this is, so a late summary task never reports a later one.
    generation: u64,
    summary_scheduled: bool,
}

impl RateLimitedWarn {
    pub const fn new(kind: &'static str, interval: Duration) -> Self {
        Self {
            kind,
            interval,
            window: Mutex::new(Window {
                until: None,
                suppressed: 0,
                generation: 0,
                summary_scheduled: false,
            }),
        }
    }

    /// Counts one occurrence; true when the caller should log it in full (the first of
    /// its interval). The count of the others is logged when the interval ends.
    pub fn admit(&'static self) -> bool {
        let now = Instant::now();
        let mut window = self.lock();
        if let Some(until) = window.until.filter(|until| now < *until) {
            window.suppressed += 1;
            if !window.summary_scheduled {
                window.summary_scheduled = self.schedule_summary(until, window.generation);
            }
            return false;
        }
        // A new interval. Its predecessor's count is reported here if no summary task
        // could run (no runtime, or the runtime that had it is gone).
        let left = std::mem::take(&mut window.suppressed);
        window.until = Some(now + self.interval);
        window.generation += 1;
        window.summary_scheduled = false;
        drop(window);
        self.summarize(left);
        true
    }

    /// Spawns the task that reports the interval's count when it ends; false when there
    /// is no runtime to run it on.
    fn schedule_summary(&'static self, until: Instant, generation: u64) -> bool {
        let Ok(runtime) = tokio::runtime::Handle::try_current() else {
            return false;
        };
        runtime.spawn(async move {
            tokio::time::sleep_until(until).await;
            let mut window = self.lock();
            if window.generation != generation {
                return;
            }
            window.summary_scheduled = false;
            let left = std::mem::take(&mut window.suppressed);
            drop(window);
            self.summarize(left);
        });
        true
    }

    fn summarize(&self, suppressed: u64) {
        if suppressed > 0 {
            tracing::warn!(
                warning = self.kind,
                suppressed,
                interval_secs = self.interval.as_secs(),
                "repeated warning suppressed"
            );
        }
    }

    /// The window; a panic elsewhere while it was held leaves plain counters, still usable.
    fn lock(&self) -> MutexGuard<'_, Window> {
        self.window.lock().unwrap_or_else(PoisonError::into_inner)
    }
}

#[cfg(test)]
#[path = "warnings_tests.rs"]
mod tests;
