//! Reading one page from Tovuti: through the connection's throttle, retried with backoff
//! (honouring `Retry-After`) up to `poller.page_retries` times.

use std::num::NonZeroU32;
use std::sync::{Arc, Mutex, PoisonError};
use std::time::Duration;

use governor::clock::Clock;
use governor::middleware::NoOpMiddleware;
use governor::nanos::Nanos;
use governor::state::{InMemoryState, NotKeyed};
use governor::{Quota, RateLimiter};
use tokio::time::Instant;

use super::detect::Polled;
use super::{PollContext, PollError};
use crate::platforms::ErrorClass;
use crate::platforms::tovuti::TovutiError;
use crate::platforms::tovuti::client::{Page, PageRequest};
use crate::telemetry::PollErrorLabels;

/// Longest wait between two tries of a page, without `Retry-After`.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Longest `Retry-After` honoured; a longer one (a misconfigured header, a date far off)
/// is waited this long, and the scan's retries decide the rest.
const MAX_RETRY_AFTER: Duration = Duration::from_secs(300);

/// Tovuti requests of one connection, shared by its three resources' scans: spaced by
/// `poller.requests_per_second`, and all held back while Tovuti has asked (a 429's
/// `Retry-After`) for a pause.
#[derive(Clone)]
pub struct Throttle(Arc<Inner>);

struct Inner {
    limiter: Option<Limiter>,
    /// No request before this instant (tokio's time): the latest `Retry-After` asked.
    resume_at: Mutex<Option<Instant>>,
}

/// governor's clock on tokio's time, so a paused-clock test drives the throttle too.
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

struct Limiter {
    limiter: RateLimiter<NotKeyed, InMemoryState, TokioClock, NoOpMiddleware<Nanos>>,
    clock: TokioClock,
}

impl Throttle {
    /// `per_second` of 0 (or less) is no rate limit. No burst: requests are spaced evenly.
    pub fn per_second(per_second: f64) -> Self {
        if per_second <= 0.0 || !per_second.is_finite() {
            return Self::none();
        }
        let period = Duration::from_secs_f64(1.0 / per_second);
        let limiter = Quota::with_period(period).map(|quota| {
            let clock = TokioClock {
                origin: Instant::now(),
            };
            let quota = quota.allow_burst(NonZeroU32::MIN);
            Limiter {
                limiter: RateLimiter::direct_with_clock(quota, clock.clone()),
                clock,
            }
        });
        Self::with(limiter)
    }

    /// No rate limit; a `Retry-After` is still honoured.
    pub fn none() -> Self {
        Self::with(None)
    }

    fn with(limiter: Option<Limiter>) -> Self {
        Self(Arc::new(Inner {
            limiter,
            resume_at: Mutex::new(None),
        }))
    }

    /// Holds every request through this throttle back for `wait` from now (never
    /// shortening a longer hold already asked for).
    pub fn hold_for(&self, wait: Duration) {
        let until = Instant::now() + wait;
        let mut resume_at = self.resume_at();
        *resume_at = Some(resume_at.map_or(until, |at| at.max(until)));
    }

    /// Waits until the next request may go: past any hold, then its turn in the rate.
    pub async fn wait(&self) {
        loop {
            let resume_at = *self.resume_at();
            match resume_at {
                Some(at) if at > Instant::now() => tokio::time::sleep_until(at).await,
                _ => break,
            }
        }
        let Some(throttle) = &self.0.limiter else {
            return;
        };
        while let Err(not_until) = throttle.limiter.check() {
            tokio::time::sleep(not_until.wait_time_from(throttle.clock.now())).await;
        }
    }

    fn resume_at(&self) -> std::sync::MutexGuard<'_, Option<Instant>> {
        self.0
            .resume_at
            .lock()
            .unwrap_or_else(PoisonError::into_inner)
    }
}

/// A bounded label for a failed read.
pub fn reason(error: &TovutiError) -> &'static str {
    match error {
        TovutiError::Status { status: 429, .. } => "rate_limited",
        TovutiError::Status { .. } => "status",
        TovutiError::Timeout { .. } => "timeout",
        TovutiError::Connection { .. } | TovutiError::Unreachable { .. } => "connection",
        TovutiError::Decode { .. } => "decode",
        TovutiError::OutcomeUnknown { .. } | TovutiError::NotConfigured => "other",
    }
}

/// Whether trying the same page again may help. An unreadable answer is retried too: a
/// truncated body or a proxy's error page is usually passing.
fn worth_retrying(error: &TovutiError) -> bool {
    let class = error.class();
    class.is_retryable() || class == ErrorClass::Undecodable
}

/// The page, or the last error once the retries are spent.
pub async fn page<T: Polled>(
    ctx: &PollContext,
    request: PageRequest,
) -> Result<Page<T>, PollError> {
    let mut backoff = ctx.settings.first_backoff;
    let mut retries = 0;
    loop {
        tokio::select! {
            () = ctx.throttle.wait() => {}
            () = ctx.shutdown.cancelled() => return Err(PollError::Stopped),
        }
        let error = match T::fetch(ctx.lists.as_ref(), request).await {
            Ok(page) => return Ok(page),
            Err(error) => error,
        };
        count_error(ctx, T::RESOURCE.as_str(), reason(&error));
        if retries >= ctx.settings.page_retries || !worth_retrying(&error) {
            return Err(PollError::Tovuti {
                page: request.page,
                source: error,
            });
        }
        retries += 1;
        let wait = match error.retry_after() {
            // Tovuti asked the whole connection to pause, not just this page.
            Some(asked) => {
                let asked = asked.min(MAX_RETRY_AFTER);
                ctx.throttle.hold_for(asked);
                asked
            }
            None => backoff,
        };
        tracing::debug!(
            connection = %ctx.connection,
            resource = T::RESOURCE.as_str(),
            page = request.page,
            wait_ms = u64::try_from(wait.as_millis()).unwrap_or(u64::MAX),
            "retrying a Tovuti page"
        );
        tokio::select! {
            () = tokio::time::sleep(wait) => {}
            () = ctx.shutdown.cancelled() => return Err(PollError::Stopped),
        }
        backoff = (backoff * 2).min(MAX_BACKOFF);
    }
}

pub fn count_error(ctx: &PollContext, resource: &str, reason: &str) {
    let labels = PollErrorLabels {
        connection: ctx.connection.clone(),
        resource: resource.to_owned(),
        reason: reason.to_owned(),
    };
    ctx.metrics.poll.errors.get_or_create(&labels).inc();
}

#[cfg(test)]
#[path = "fetch_tests.rs"]
mod tests;
