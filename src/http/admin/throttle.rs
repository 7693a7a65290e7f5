//! Failed authentications per source address: beyond the quota, an address is answered
//! 429 + Retry-After without its token being looked at, so tokens cannot be guessed at
//! speed. governor counts the failures (GCRA); an address that spent its quota is kept
//! in a small blocked list until governor would admit its next failure.

use std::collections::HashMap;
use std::net::IpAddr;
use std::num::NonZeroU32;
use std::sync::Mutex;
use std::sync::atomic::{AtomicU32, Ordering};
use std::time::{Duration, Instant};

use governor::clock::{Clock as _, DefaultClock};
use governor::{DefaultKeyedRateLimiter, Quota};

/// Addresses blocked at once beyond which expired entries are swept before adding one;
/// bounds the memory a spread-out attack can take.
const MAX_BLOCKED: usize = 10_000;
/// Failures between two sweeps of governor's per-address state.
const SWEEP_EVERY: u32 = 1024;

pub struct FailedAuth {
    failures: DefaultKeyedRateLimiter<IpAddr>,
    clock: DefaultClock,
    blocked: Mutex<HashMap<IpAddr, Instant>>,
    since_sweep: AtomicU32,
}

impl FailedAuth {
    /// Admits `per_minute` failures per address per minute: the failure that uses up the
    /// quota blocks the address, so its next request is refused without a look at its
    /// token (governor rejects the first check beyond the burst, hence a burst of one
    /// less; a quota of one keeps a burst of one).
    pub fn per_minute(per_minute: u32) -> Self {
        let rate = NonZeroU32::new(per_minute).unwrap_or(NonZeroU32::MIN);
        let burst = NonZeroU32::new(per_minute.saturating_sub(1)).unwrap_or(NonZeroU32::MIN);
        let quota = Quota::per_minute(rate).allow_burst(burst);
        Self {
            failures: DefaultKeyedRateLimiter::keyed(quota),
            clock: DefaultClock::default(),
            blocked: Mutex::new(HashMap::new()),
            since_sweep: AtomicU32::new(0),
        }
    }

    /// How long `address` must still wait, when it spent its failures.
    pub fn blocked_for(&self, address: IpAddr) -> Option<Duration> {
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        let until = *blocked.get(&address)?;
        let left = until.saturating_duration_since(Instant::now());
        if left.is_zero() {
            blocked.remove(&address);
            return None;
        }
        Some(left)
    }

    /// Counts a failed authentication from `address`; when it uses up the quota, the
    /// address is blocked until governor would admit another, and true is returned.
    pub fn failed(&self, address: IpAddr) -> bool {
        if self.since_sweep.fetch_add(1, Ordering::Relaxed) >= SWEEP_EVERY {
            self.since_sweep.store(0, Ordering::Relaxed);
            self.failures.retain_recent();
        }
        let Err(not_until) = self.failures.check_key(&address) else {
            return false;
        };
        let wait = not_until.wait_time_from(self.clock.now());
        let mut blocked = self.blocked.lock().unwrap_or_else(|e| e.into_inner());
        if blocked.len() >= MAX_BLOCKED {
            let now = Instant::now();
            blocked.retain(|_, until| *until > now);
        }
        if blocked.len() >= MAX_BLOCKED {
            return false;
        }
        blocked.insert(address, Instant::now() + wait);
        true
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn an_address_is_blocked_after_its_quota_and_others_are_not() {
        let limiter = FailedAuth::per_minute(3);
        let one: IpAddr = [10, 0, 0, 1].into();
        let two: IpAddr = [10, 0, 0, 2].into();
        for _ in 0..2 {
            assert!(!limiter.failed(one));
            assert_eq!(limiter.blocked_for(one), None);
        }
        assert!(limiter.failed(one));
        let wait = limiter.blocked_for(one).expect("the third failure blocks");
        assert!(wait <= Duration::from_secs(20), "{wait:?}");
        assert_eq!(limiter.blocked_for(two), None);
    }
}
