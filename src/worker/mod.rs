//! The worker: claims due inbox events with a lease, hands each to a `Processor`, and
//! records the outcome (done, retry at T, wait without spending an attempt, dead).
//! `run_once` is one step, public so tests drive the worker without sleeping.

#[cfg(test)]
mod connection_metrics_tests;
mod dead;
mod retry;
#[cfg(test)]
mod tests;

use std::sync::Arc;
use std::time::Duration;

use tokio::task::JoinSet;
use tokio_util::sync::CancellationToken;

pub use dead::DeadReason;
pub use retry::{NextStep, RetrySchedule};

use crate::config::DEFAULT_CONNECTION;
use crate::services::Services;
use crate::store::{AttemptRecord, Claim, Completion, Millis, StoreError, StoredEvent};
use crate::sync::{ProcessError, Processor};
use crate::telemetry::WorkerLabels;
use crate::telemetry::{requests, warnings};

/// Events deleted per pruning statement, so one prune never holds a long lock.
const PRUNE_BATCH: u32 = 1000;

/// What one step did.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Outcome {
    /// This many events were claimed and their outcomes recorded.
    Handled(usize),
    /// Nothing was due.
    Idle,
}

#[derive(Clone)]
pub struct Worker {
    services: Services,
    processor: Arc<dyn Processor>,
    schedule: RetrySchedule,
}

impl Worker {
    pub fn new(services: Services, processor: Arc<dyn Processor>) -> Self {
        let schedule = RetrySchedule::new(&services.config.worker.retry_schedule_secs);
        Self {
            services,
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
        let events = self
            .claim(now, self.services.config.worker.concurrency)
            .await?;
        if events.is_empty() {
            return Ok(Outcome::Idle);
        }
        let handled = events.iter().map(|event| self.handle(event, now));
        futures::future::join_all(handled).await;
        Ok(Outcome::Handled(events.len()))
    }

    async fn claim(&self, now: Millis, limit: u32) -> Result<Vec<StoredEvent>, StoreError> {
        let claim = Claim {
            owner: self.services.instance_id.clone(),
            now,
            lease: Duration::from_secs(self.services.config.worker.lease_secs),
            limit,
        };
        self.services.store.claim_due_events(&claim).await
    }

    /// Processes one claimed event and records how it went, with the attempt and the
    /// requests it made in the event log. A failure to record is logged; the lease then
    /// expires and the event is claimed again.
    async fn handle(&self, event: &StoredEvent, now: Millis) {
        let started = std::time::Instant::now();
        let finished = CancellationToken::new();
        let process = async {
            let done = requests::collect(self.processor.process(event)).await;
            finished.cancel();
            done
        };
        // If the lease is lost, the attempt still finishes (the action log keeps effects
        // single).
        let ((outcome, requests), ()) = tokio::join!(process, self.keep_lease(event, &finished));
        let error = outcome.as_ref().err().map(ToString::to_string);
        let label = match self.record_outcome(event, outcome, now).await {
            Ok(label) => label,
            Err(error) => {
                if warnings::OUTCOME_NOT_RECORDED.admit() {
                    tracing::warn!(event.id = %event.id, %error, "could not record an event's outcome");
                }
                return;
            }
        };
        let elapsed = started.elapsed();
        let attempt = AttemptRecord {
            event_id: event.id,
            attempt: event.attempts,
            started_at: now,
            finished_at: now.plus(elapsed),
            outcome: label.to_owned(),
            error,
            requests: serde_json::to_value(&requests).unwrap_or_default(),
        };
        if let Err(error) = self.services.store.record_attempt(&attempt).await {
            tracing::warn!(event.id = %event.id, %error, "could not write the event log");
        }
        let metrics = &self.services.metrics;
        let labels = WorkerLabels {
            connection: event
                .connection_id
                .clone()
                .unwrap_or_else(|| DEFAULT_CONNECTION.to_owned()),
            source: event.source.as_str().to_owned(),
            outcome: label.to_owned(),
        };
        metrics.worker_events.get_or_create(&labels).inc();
        metrics.worker_duration.observe(elapsed.as_secs_f64());
    }

    /// Renews the lease of an event while it is processed, every third of the lease, so a
    /// slow attempt (timeouts, rate-limit waits) is never taken for a crashed one and
    /// handed to another replica mid-call. Returns once the attempt has `finished`, or when
    /// the lease is lost.
    ///
    /// It stops only between renewals, never during one: a store call dropped mid-flight
    /// can keep its pooled connection from the pool for seconds (SQLite has only one
    /// write connection), and the attempt's outcome would then fail to be recorded.
    async fn keep_lease(&self, event: &StoredEvent, finished: &CancellationToken) {
        let lease = Duration::from_secs(self.services.config.worker.lease_secs);
        let owner = self.services.instance_id.as_str();
        loop {
            tokio::select! {
                () = tokio::time::sleep(lease / 3) => {}
                () = finished.cancelled() => return,
            }
            let until = Millis::now().plus(lease);
            match self
                .services
                .store
                .extend_lease(event.id, owner, until)
                .await
            {
                Ok(()) => {}
                Err(StoreError::NotFound(_)) => {
                    tracing::warn!(event.id = %event.id, "lost the lease of an event in progress");
                    return;
                }
                Err(error) => {
                    tracing::warn!(event.id = %event.id, %error, "could not renew an event's lease");
                }
            }
        }
    }

    /// Stores how an attempt ended and names it for the event log and metrics.
    async fn record_outcome(
        &self,
        event: &StoredEvent,
        outcome: Result<Completion, ProcessError>,
        now: Millis,
    ) -> Result<&'static str, StoreError> {
        let (store, owner) = (&self.services.store, self.services.instance_id.as_str());
        let not_before = match &outcome {
            Err(ProcessError::Unsettled(_)) => {
                now.plus(Duration::from_secs(self.services.config.worker.settle_secs))
            }
            _ => now,
        };
        match outcome {
            // The store marked it when it found the newer update.
            Ok(Completion::Superseded) => Ok("superseded"),
            Ok(how) => {
                store.complete_event(event.id, owner, how).await?;
                Ok(how.status().as_str())
            }
            Err(ProcessError::Wait { until, .. }) => {
                store.postpone_event(event.id, owner, until).await?;
                Ok("wait")
            }
            Err(ProcessError::Permanent(reason)) => {
                store.mark_dead(event.id, owner, &reason).await?;
                dead::report(&self.services, event, DeadReason::Rejected, &reason);
                Ok("dead")
            }
            Err(ProcessError::Retryable(reason) | ProcessError::Unsettled(reason)) => {
                match self.schedule.after_failure(event.attempts, now) {
                    NextStep::RetryAt(at) => {
                        let at = at.max(not_before);
                        store.schedule_retry(event.id, owner, at, &reason).await?;
                        Ok("retry")
                    }
                    NextStep::GiveUp => {
                        let reason = format!("gave up after {} attempts: {reason}", event.attempts);
                        store.mark_dead(event.id, owner, &reason).await?;
                        dead::report(&self.services, event, DeadReason::RetriesExhausted, &reason);
                        Ok("dead")
                    }
                }
            }
        }
    }

    /// Works until shutdown, keeping up to `worker.concurrency` events in progress: once a
    /// quarter of the slots are free they are filled by one claim (no waiting for a whole
    /// batch, no claim per slot), the inbox is looked at again every
    /// `worker.poll_interval_ms` when nothing finishes, expired leases are
    /// reclaimed once per lease period and finished events pruned past their retention.
    /// On shutdown no new event is claimed and the ones in progress finish; the caller
    /// releases leases after.
    pub async fn run(self) {
        let shutdown = self.services.shutdown.clone();
        let config = &self.services.config.worker;
        let idle = Duration::from_millis(config.poll_interval_ms);
        let mut reclaim = Every::new(Duration::from_secs(config.lease_secs));
        let mut prune = Every::new(Duration::from_secs(config.prune_interval_secs.max(1)));
        // Spawned, not merely polled here: an attempt holding a store connection must
        // progress while this loop waits on the store to claim more.
        let mut in_progress = JoinSet::new();
        let (mut look, mut wait) = (true, idle);
        loop {
            if shutdown.is_cancelled() {
                while in_progress.join_next().await.is_some() {}
                return;
            }
            if reclaim.due() {
                self.reclaim_expired().await;
            }
            if prune.due() {
                self.prune(Millis::now()).await;
            }
            let free = config.concurrency.saturating_sub(len_u32(&in_progress));
            // Claims are batched: a claim is a write of its own, so one per freed slot
            // would cost more than the events it brings.
            if look
                && (free >= refill_at(config.concurrency) || (free > 0 && in_progress.is_empty()))
            {
                match self.claim(Millis::now(), free).await {
                    Ok(events) if !events.is_empty() => {
                        for event in events {
                            let worker = self.clone();
                            in_progress
                                .spawn(async move { worker.handle(&event, Millis::now()).await });
                        }
                        continue;
                    }
                    Ok(_) => (look, wait) = (false, idle),
                    Err(error) => {
                        if warnings::CLAIM_FAILED.admit() {
                            tracing::warn!(%error, "could not claim events");
                        }
                        (look, wait) = (false, idle * 4);
                    }
                }
            }
            // A freed slot or the poll interval means: look at the inbox again.
            tokio::select! {
                Some(_) = in_progress.join_next() => look = true,
                () = tokio::time::sleep(wait) => look = true,
                () = shutdown.cancelled() => {}
            }
        }
    }

    /// Removes finished events older than the retention, in batches, so the inbox and
    /// the event log stay small however long the service runs.
    pub async fn prune(&self, now: Millis) -> u64 {
        let days = self.services.config.worker.event_retention_days;
        if days == 0 {
            return 0;
        }
        let retention = Duration::from_secs(days.saturating_mul(86_400));
        let cutoff = Millis(now.0.saturating_sub(Millis(0).plus(retention).0));
        let mut total = 0;
        loop {
            match self
                .services
                .store
                .prune_finished_events(cutoff, PRUNE_BATCH)
                .await
            {
                Ok(n) => {
                    total += n;
                    if n < u64::from(PRUNE_BATCH) {
                        break;
                    }
                }
                Err(error) => {
                    tracing::warn!(%error, "could not prune finished events");
                    break;
                }
            }
        }
        if total > 0 {
            self.services.metrics.events_pruned.inc_by(total);
            tracing::info!(
                pruned = total,
                "pruned finished events past their retention"
            );
        }
        total
    }

    async fn reclaim_expired(&self) {
        match self
            .services
            .store
            .reclaim_expired_leases(Millis::now())
            .await
        {
            Ok(0) => {}
            Ok(reclaimed) => tracing::info!(reclaimed, "reclaimed events whose lease expired"),
            Err(error) => tracing::warn!(%error, "could not reclaim expired leases"),
        }
    }
}

/// A periodic chore in the worker loop: due at once, then once per `period`.
struct Every {
    period: Duration,
    last: Option<tokio::time::Instant>,
}

impl Every {
    fn new(period: Duration) -> Self {
        Self { period, last: None }
    }

    fn due(&mut self) -> bool {
        let now = tokio::time::Instant::now();
        let due = self.last.is_none_or(|at| now - at >= self.period);
        if due {
            self.last = Some(now);
        }
        due
    }
}

/// How many slots must be free before the worker claims again: a quarter of them.
fn refill_at(concurrency: u32) -> u32 {
    (concurrency / 4).max(1)
}

fn len_u32<T: 'static>(set: &JoinSet<T>) -> u32 {
    u32::try_from(set.len()).unwrap_or(u32::MAX)
}
