//! The contract between the worker and what processes an event: the worker claims and
//! records outcomes, a `Processor` (the sync engine, or a test's stand-in) does the work.

use async_trait::async_trait;

use crate::store::{Completion, Millis, StoredEvent};

/// Why processing an event did not complete it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    /// Transient (timeout, 5xx, connection reset): tried again on the retry schedule.
    #[error("{0}")]
    Retryable(String),
    /// Transient, but a request's answer was lost and the platform may still be applying
    /// it: tried again on the schedule, not sooner than `worker.settle_secs`, so the
    /// retry's look-up for what it made finds it.
    #[error("{0}")]
    Unsettled(String),
    /// Will not succeed as it is (a 4xx such as 422): dead, with the reason kept.
    #[error("{0}")]
    Permanent(String),
    /// Not a failure: a rate limit or a connection awaiting re-authorisation. The event
    /// waits until `until` and no attempt is spent.
    #[error("waiting: {reason}")]
    Wait { until: Millis, reason: String },
}

/// Turns one stored event into its downstream effects.
#[async_trait]
pub trait Processor: Send + Sync {
    async fn process(&self, event: &StoredEvent) -> Result<Completion, ProcessError>;
}
