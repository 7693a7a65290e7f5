//! The small in-call retry budget: exponential backoff with full jitter, so many
//! callers failing together do not retry together. The worker owns longer retries.

use std::time::Duration;

use rand::Rng as _;

/// How often and how patiently one call retries a retryable failure.
#[derive(Debug, Clone, Copy)]
pub struct RetryPolicy {
    /// Attempts in all, the first included.
    pub max_attempts: u32,
    /// Ceiling of the first delay; doubles per attempt.
    pub base: Duration,
    /// No delay exceeds this.
    pub max_delay: Duration,
}

impl RetryPolicy {
    /// The delay before attempt `failed + 1`: uniform in `[0, min(max, base·2^failed)]`.
    pub fn delay(&self, failed: u32) -> Duration {
        let ceiling = self
            .base
            .saturating_mul(2u32.saturating_pow(failed))
            .min(self.max_delay);
        let ceiling_ms = u64::try_from(ceiling.as_millis()).unwrap_or(u64::MAX);
        Duration::from_millis(rand::thread_rng().gen_range(0..=ceiling_ms))
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn delays_stay_under_a_ceiling_that_doubles_up_to_the_maximum() {
        let policy = RetryPolicy {
            max_attempts: 4,
            base: Duration::from_millis(100),
            max_delay: Duration::from_millis(500),
        };
        for _ in 0..200 {
            assert!(policy.delay(0) <= Duration::from_millis(100));
            assert!(policy.delay(2) <= Duration::from_millis(400));
            assert!(policy.delay(10) <= Duration::from_millis(500));
        }
        let spread: std::collections::HashSet<_> = (0..50).map(|_| policy.delay(3)).collect();
        assert!(spread.len() > 10, "full jitter spreads the delays");
    }
}
