//! When a failed event is tried again: a configured schedule with full jitter, after
//! which the event is dead.

use std::time::Duration;

use rand::Rng as _;

use crate::store::Millis;

/// What to do after attempt `n` failed transiently.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum NextStep {
    RetryAt(Millis),
    /// The schedule is spent.
    GiveUp,
}

/// The delays between attempts; entry n-1 bounds the wait before attempt n+1.
#[derive(Debug, Clone)]
pub struct RetrySchedule {
    delays: Vec<Duration>,
    /// Picks the actual delay in `0..=bound`; random (full jitter) except in tests.
    jitter: fn(Duration) -> Duration,
}

impl RetrySchedule {
    pub fn new(delays_secs: &[u64]) -> Self {
        let delays = delays_secs
            .iter()
            .map(|s| Duration::from_secs(*s))
            .collect();
        Self {
            delays,
            jitter: full_jitter,
        }
    }

    /// The same schedule with a chosen jitter, for deterministic tests.
    pub fn with_jitter(mut self, jitter: fn(Duration) -> Duration) -> Self {
        self.jitter = jitter;
        self
    }

    /// `attempts` counts the attempt that just failed.
    pub fn after_failure(&self, attempts: u32, now: Millis) -> NextStep {
        let index = usize::try_from(attempts.saturating_sub(1)).unwrap_or(usize::MAX);
        match self.delays.get(index) {
            Some(bound) => NextStep::RetryAt(now.plus((self.jitter)(*bound))),
            None => NextStep::GiveUp,
        }
    }

    pub fn retries(&self) -> usize {
        self.delays.len()
    }
}

/// Full jitter (a uniform delay up to the bound) keeps many events that failed together
/// from coming back together.
fn full_jitter(bound: Duration) -> Duration {
    let millis = u64::try_from(bound.as_millis()).unwrap_or(u64::MAX);
    Duration::from_millis(rand::thread_rng().gen_range(0..=millis))
}

#[cfg(test)]
mod tests {
    use super::*;

    const NOW: Millis = Millis(1_000_000);

    #[test]
    fn each_failure_waits_for_its_entry_then_the_schedule_gives_up() {
        let schedule = RetrySchedule::new(&[5, 60]).with_jitter(|bound| bound);
        assert_eq!(
            schedule.after_failure(1, NOW),
            NextStep::RetryAt(Millis(1_005_000))
        );
        assert_eq!(
            schedule.after_failure(2, NOW),
            NextStep::RetryAt(Millis(1_060_000))
        );
        assert_eq!(schedule.after_failure(3, NOW), NextStep::GiveUp);
    }

    #[test]
    fn full_jitter_stays_within_the_bound() {
        let schedule = RetrySchedule::new(&[10]);
        for _ in 0..200 {
            let NextStep::RetryAt(at) = schedule.after_failure(1, NOW) else {
                panic!("a retry")
            };
            assert!((NOW.0..=NOW.0 + 10_000).contains(&at.0), "{at:?}");
        }
    }

    #[test]
    fn the_default_schedule_spans_about_a_day() {
        let config = crate::config::Config::defaults();
        let total: u64 = config.worker.retry_schedule_secs.iter().sum();
        assert!((20 * 3600..=30 * 3600).contains(&total), "{total} s");
    }
}
