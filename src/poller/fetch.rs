//! Reading one page from Tovuti: through the connection's throttle, retried with backoff
//! (honouring `Retry-After`) up to `poller.page_retries` times.

use std::num::NonZeroU32;
use std::sync::Arc;
use std::time::Duration;

use governor::{DefaultDirectRateLimiter, Quota, RateLimiter};

use super::detect::Polled;
use super::{PollContext, PollError};
use crate::platforms::tovuti::TovutiError;
use crate::platforms::tovuti::client::{Page, PageRequest};
use crate::telemetry::PollErrorLabels;

/// Longest wait between two tries of a page.
const MAX_BACKOFF: Duration = Duration::from_secs(60);

/// Tovuti requests of one connection, shared by its three resources' scans.
#[derive(Clone)]
pub struct Throttle(Option<Arc<DefaultDirectRateLimiter>>);

impl Throttle {
    /// `per_second` of 0 (or less) is no throttle.
    pub fn per_second(per_second: f64) -> Self {
        if per_second <= 0.0 || !per_second.is_finite() {
            return Self::none();
        }
        let period = Duration::from_secs_f64(1.0 / per_second);
        let quota = Quota::with_period(period)
            .map(|q| q.allow_burst(NonZeroU32::MIN))
            .map(|q| Arc::new(RateLimiter::direct(q)));
        Self(quota)
    }

    pub fn none() -> Self {
        Self(None)
    }

    async fn wait(&self) {
        if let Some(limiter) = &self.0 {
            limiter.until_ready().await;
        }
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
    error.is_retryable() || matches!(error, TovutiError::Decode { .. })
}

/// The page, or the last error once the retries are spent.
pub async fn page<T: Polled>(
    ctx: &PollContext,
    request: PageRequest,
) -> Result<Page<T>, PollError> {
    let mut backoff = ctx.settings.first_backoff;
    let mut retries = 0;
    loop {
        ctx.throttle.wait().await;
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
        let wait = error.retry_after().unwrap_or(backoff).min(MAX_BACKOFF);
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
