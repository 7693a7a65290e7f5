//! The level of a failed response: ERROR only for what an operator must act on.
//!
//! 4xx are the client's business and not failures at all. A 502/503/504 is the service
//! saying "not now" (store outage, draining, a feature not configured); it is expected
//! while degraded, so it is a warning, aggregated because an outage repeats it on every
//! request. Anything else (a 500, a handler error) is unexpected and is an ERROR.

use std::time::Duration;

use axum::http::StatusCode;
use tower_http::classify::ServerErrorsFailureClass;

use super::warnings::{RESPONSE_UNAVAILABLE, RateLimitedWarn};

/// `TraceLayer`'s `on_failure`: logs a failed response at the level it deserves.
pub fn log_failure(class: ServerErrorsFailureClass, latency: Duration, _span: &tracing::Span) {
    log_failure_with(&RESPONSE_UNAVAILABLE, class, latency);
}

fn log_failure_with(
    unavailable: &'static RateLimitedWarn,
    class: ServerErrorsFailureClass,
    latency: Duration,
) {
    let latency_ms = u64::try_from(latency.as_millis()).unwrap_or(u64::MAX);
    match class {
        ServerErrorsFailureClass::StatusCode(status) if is_unavailable(status) => {
            if unavailable.admit() {
                tracing::warn!(status = status.as_u16(), latency_ms, "response failed");
            }
        }
        ServerErrorsFailureClass::StatusCode(status) => {
            tracing::error!(status = status.as_u16(), latency_ms, "response failed");
        }
        ServerErrorsFailureClass::Error(error) => {
            tracing::error!(%error, latency_ms, "response failed");
        }
    }
}

fn is_unavailable(status: StatusCode) -> bool {
    matches!(
        status,
        StatusCode::BAD_GATEWAY | StatusCode::SERVICE_UNAVAILABLE | StatusCode::GATEWAY_TIMEOUT
    )
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::telemetry::capture::Captured;
    use crate::telemetry::warnings::WARN_INTERVAL;

    /// A window of this module's own: tests elsewhere may answer 503s at the same time.
    static UNAVAILABLE: RateLimitedWarn = RateLimitedWarn::new("response failed", WARN_INTERVAL);

    fn fail(status: StatusCode) {
        let class = ServerErrorsFailureClass::StatusCode(status);
        log_failure_with(&UNAVAILABLE, class, Duration::from_millis(7));
    }

    #[test]
    fn a_500_is_an_error() {
        let (logs, _guard) = Captured::start();
        fail(StatusCode::INTERNAL_SERVER_ERROR);
        let errors = logs.at("ERROR");
        assert_eq!(errors.len(), 1);
        assert_eq!(errors[0]["status"], 500);
        assert_eq!(errors[0]["latency_ms"], 7);
    }

    #[tokio::test(start_paused = true)]
    async fn unavailable_answers_are_aggregated_warnings_never_errors() {
        let (logs, _guard) = Captured::start();
        for _ in 0..100 {
            fail(StatusCode::SERVICE_UNAVAILABLE);
            fail(StatusCode::GATEWAY_TIMEOUT);
        }
        tokio::time::sleep(WARN_INTERVAL + Duration::from_millis(10)).await;
        assert!(logs.at("ERROR").is_empty(), "{:?}", logs.lines());
        let warnings = logs.at("WARN");
        assert_eq!(warnings.len(), 2, "{warnings:?}");
        assert_eq!(warnings[0]["status"], 503);
        assert_eq!(warnings[1]["suppressed"], 199);
    }
}
