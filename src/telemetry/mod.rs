//! Logs and metrics: the tracing subscriber (JSON off a terminal, human on one), the
//! level of failed responses, aggregation of repeated warnings, and the Prometheus registry.

pub mod capture;
mod failures;
mod metrics;
mod poll_metrics;
pub mod reconcile;
pub mod requests;
pub mod warnings;

use std::io::IsTerminal;

pub use poll_metrics::{
    PollChangeLabels, PollErrorLabels, PollLabels, PollMetrics, PollScanLabels,
};

pub use failures::log_failure;
pub use metrics::{
    DeadLabels, GhlRequestLabels, HttpLabels, LocationLabels, Metrics, RateLimitedLabels,
    RefreshLabels, SkippedLabels, WorkerLabels,
};
use tracing_subscriber::EnvFilter;

use crate::config::{LogFormat, TelemetryConfig};

/// Installs the global subscriber. `RUST_LOG` wins over `telemetry.log_level`.
pub fn init(config: &TelemetryConfig) {
    let filter =
        EnvFilter::try_from_default_env().unwrap_or_else(|_| EnvFilter::new(&config.log_level));
    let json = match config.log_format {
        LogFormat::Json => true,
        LogFormat::Pretty => false,
        LogFormat::Auto => !std::io::stdout().is_terminal(),
    };
    let builder = tracing_subscriber::fmt()
        .with_env_filter(filter)
        .with_target(true);
    // A second init (tests, embedding) keeps the first subscriber; that is fine.
    let _ = if json {
        builder
            .json()
            .flatten_event(true)
            .with_current_span(true)
            .try_init()
    } else {
        builder.try_init()
    };
}
