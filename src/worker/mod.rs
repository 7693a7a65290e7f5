//! The worker: claims due inbox events with a lease, hands each to a `Processor`, and
//! records the outcome (done, retry at T, wait without spending an attempt, dead).
//! `run_once` is one step, public so tests drive the worker without sleeping.

mod retry;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use async_trait::async_trait;

pub use retry::{NextStep, RetrySchedule};

use crate::state::AppState;
use crate::store::{Claim, Completion, Millis, StoreError, StoredEvent};

/// Why processing an event did not complete it.
#[derive(Debug, Clone, PartialEq, Eq, thiserror::Error)]
pub enum ProcessError {
    /// Transient (timeout, 5xx, connection reset): tried again on the retry schedule.
    #[error("{0}")]
    Retryable(String),
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

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// This many events were claimed and their outcomes recorded.
    Handled(usize),
    /// Nothing was due.
    Idle,
}

pub struct Worker {
    state: AppState,
    processor: Arc<dyn Processor>,
    schedule: RetrySchedule,
}

impl Worker {
    pub fn new(state: AppState, processor: Arc<dyn Processor>) -> Self {
        let schedule = RetrySchedule::new(&state.config.worker.retry_schedule_secs);
        Self {
            state,
            processor,
            schedule,
        }
    }

    pub fn with_schedule(mut self, schedule: RetrySchedule) -> Self {
        self.schedule = schedule;
        self
    }

    /// Claims what is due at `now` (at most `worker.concurrency` events, each of a
    /// different entity) and processes them concurrently.
    pub async fn run_once(&self, now: Millis) -> Result<Outcome, StoreError> {
        let config = &self.state.config.worker;
        let claim = Claim {
            owner: self.state.instance_id.clone(),
            now,
            lease: Duration::from_secs(config.lease_secs),
            limit: config.concurrency,
        };
        let events = self.state.store.claim_due_events(&claim).await?;
        if events.is_empty() {
            return Ok(Outcome::Idle);
        }
        let handled = events.iter().map(|event| self.handle(event, now));
        futures::future::join_all(handled).await;
        Ok(Outcome::Handled(events.len()))
    }

    /// Processes one claimed event and records how it went. A failure to record is
    /// logged; the lease then expires and the event is claimed again.
    async fn handle(&self, event: &StoredEvent, now: Millis) {
        let outcome = self.processor.process(event).await;
        let (store, owner) = (&self.state.store, self.state.instance_id.as_str());
        let recorded = match outcome {
            Ok(how) => store.complete_event(event.id, owner, how).await,
            Err(ProcessError::Wait { until, .. }) => {
                store.postpone_event(event.id, owner, until).await
            }
            Err(ProcessError::Permanent(reason)) => store.mark_dead(event.id, owner, &reason).await,
            Err(ProcessError::Retryable(reason)) => match self
                .schedule
                .after_failure(event.attempts, now)
            {
                NextStep::RetryAt(at) => store.schedule_retry(event.id, owner, at, &reason).await,
                NextStep::GiveUp => {
                    let reason = format!("gave up after {} attempts: {reason}", event.attempts);
                    store.mark_dead(event.id, owner, &reason).await
                }
            },
        };
        if let Err(error) = recorded {
            tracing::warn!(event.id = %event.id, %error, "could not record an event's outcome");
        }
    }

    /// Steps until shutdown: pauses when idle, reclaims expired leases once per lease
    /// period. A step in progress is never cut short; the caller releases leases after.
    pub async fn run(self) {
        let shutdown = self.state.shutdown.clone();
        let config = &self.state.config.worker;
        let idle = Duration::from_millis(config.poll_interval_ms);
        let reclaim_every = Duration::from_secs(config.lease_secs);
        let mut last_reclaim: Option<tokio::time::Instant> = None;
        while !shutdown.is_cancelled() {
            if last_reclaim.is_none_or(|at| at.elapsed() >= reclaim_every) {
                self.reclaim_expired().await;
                last_reclaim = Some(tokio::time::Instant::now());
            }
            let pause = match self.run_once(Millis::now()).await {
                Ok(Outcome::Handled(_)) => continue,
                Ok(Outcome::Idle) => idle,
                Err(error) => {
                    tracing::warn!(%error, "worker step failed");
                    idle * 4
                }
            };
            tokio::select! {
                () = tokio::time::sleep(pause) => {}
                () = shutdown.cancelled() => break,
            }
        }
    }

    async fn reclaim_expired(&self) {
        match self.state.store.reclaim_expired_leases(Millis::now()).await {
            Ok(0) => {}
            Ok(reclaimed) => tracing::info!(reclaimed, "reclaimed events whose lease expired"),
            Err(error) => tracing::warn!(%error, "could not reclaim expired leases"),
        }
    }
}
