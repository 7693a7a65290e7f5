//! The sweep's own budget per location: `quota_share` of GHL's burst quota
//! (`rate_limit_max` per `rate_limit_interval_ms`), one request at a time. The sweep's
//! requests then also queue in the location's shared lane in the background class, so
//! live traffic goes first and the lane keeps the whole location within GHL's limit.

use std::collections::HashMap;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::time::Instant;

/// governor's clock on tokio's time, so a paused-clock test drives the limiter.
#[derive(Debug, Clone)]
struct TokioClock {
    origin: Instant,
}

impl Clock for TokioClock {
    type Instant = Nanos;

    fn now(&self) -> Nanos {
        Nanos::from(self.origin.elapsed())
    }
}

type Limiter = RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Nanos>>;

/// One limiter per location, all at the same rate.
pub struct SweepQuota {
    period: Duration,
    clock: TokioClock,
    limiters: Mutex<HashMap<String, Arc<Limiter>>>,
}

impl SweepQuota {
    /// `share` of `max` requests per `interval`: one request every
    /// `interval / (share · max)`, with no burst, so a sweep never takes a chunk of the
    /// window at once.
    pub fn new(share: f64, max: u32, interval: Duration) -> Self {
        let per_interval = (share * f64::from(max)).max(f64::MIN_POSITIVE);
        let period = interval.div_f64(per_interval).max(Duration::from_nanos(1));
        Self {
            period,
            clock: TokioClock {
                origin: Instant::now(),
            },
            limiters: Mutex::new(HashMap::new()),
        }
    }

    /// The spacing between two sweep requests to one location.
    pub fn period(&self) -> Duration {
        self.period
    }

    /// Waits until the sweep may send one more request to `location`.
    pub async fn acquire(&self, location: &str) {
        let limiter = self.limiter(location);
        while let Err(not_until) = limiter.check() {
            tokio::time::sleep(not_until.wait_time_from(self.clock.now())).await;
        }
    }

    fn limiter(&self, location: &str) -> Arc<Limiter> {
        let mut limiters = self.limiters.lock().unwrap_or_else(PoisonError::into_inner);
        limiters
            .entry(location.to_owned())
            .or_insert_with(|| {
                let quota = Quota::with_period(self.period)
                    .unwrap_or_else(|| unreachable!("the period is at least 1 ns"));
                Arc::new(RateLimiter::direct_with_clock(quota, self.clock.clone()))
            })
            .clone()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    /// GHL's documented quota (100 per 10 s) at the default share of 10 %: 1 request/s.
    #[tokio::test(start_paused = true)]
    async fn the_sweep_spends_at_most_its_share_of_the_quota() {
        let quota = SweepQuota::new(0.10, 100, Duration::from_secs(10));
        assert_eq!(quota.period(), Duration::from_secs(1));
        let start = Instant::now();
        for _ in 0..21 {
            quota.acquire("loc").await;
        }
        // The first goes at once, each further one a period later: 21 requests in 20 s,
        // i.e. 10.5 per 10 s window at most — never the 100 the location has.
        assert_eq!(start.elapsed(), Duration::from_secs(20));
        let other = Instant::now();
        quota.acquire("another-location").await;
        assert_eq!(
            other.elapsed(),
            Duration::ZERO,
            "locations have their own budget"
        );
    }

    #[tokio::test(start_paused = true)]
    async fn a_larger_share_spaces_requests_closer() {
        let quota = SweepQuota::new(0.5, 100, Duration::from_secs(10));
        assert_eq!(quota.period(), Duration::from_millis(200));
        let start = Instant::now();
        for _ in 0..6 {
            quota.acquire("loc").await;
        }
        assert_eq!(start.elapsed(), Duration::from_secs(1));
    }
}
