//! The Tovuti poller's metrics, per connection and resource (both bounded: connections
//! are configured, resources are three).

use std::sync::atomic::AtomicU64;

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::registry::{Registry, Unit};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PollLabels {
    pub connection: String,
    /// `users`, `progress` or `awards`.
    pub resource: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PollScanLabels {
    pub connection: String,
    pub resource: String,
    /// `completed`, `failed` or `stopped`.
    pub result: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PollChangeLabels {
    pub connection: String,
    pub resource: String,
    pub event_type: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct PollErrorLabels {
    pub connection: String,
    pub resource: String,
    /// `status`, `timeout`, `connection`, `decode`, `store`, `lease_lost`, …
    pub reason: String,
}

pub struct PollMetrics {
    /// Scans ended, by result.
    pub scans: Family<PollScanLabels, Counter>,
    /// Items read from Tovuti (unreadable ones included).
    pub items_scanned: Family<PollLabels, Counter>,
    /// Events queued because an entity was new or changed, by event type.
    pub changes: Family<PollChangeLabels, Counter>,
    /// Age of the oldest change a completed scan may not have seen yet: now minus the
    /// start of the last completed scan.
    pub lag: Family<PollLabels, Gauge<f64, AtomicU64>>,
    /// Failed page reads and store calls, by reason.
    pub errors: Family<PollErrorLabels, Counter>,
}

impl PollMetrics {
    pub fn register(registry: &mut Registry) -> Self {
        let metrics = Self {
            scans: Family::default(),
            items_scanned: Family::default(),
            changes: Family::default(),
            lag: Family::default(),
            errors: Family::default(),
        };
        let r = registry;
        r.register(
            "poll_scans",
            "Tovuti poll scans ended, by result",
            metrics.scans.clone(),
        );
        r.register(
            "poll_items_scanned",
            "Items read by Tovuti poll scans",
            metrics.items_scanned.clone(),
        );
        r.register(
            "poll_changes",
            "Events queued by Tovuti poll scans, by event type",
            metrics.changes.clone(),
        );
        r.register_with_unit(
            "poll_lag",
            "Age of the oldest change window no completed poll scan has covered",
            Unit::Seconds,
            metrics.lag.clone(),
        );
        r.register(
            "poll_errors",
            "Failed Tovuti poll page reads and store calls, by reason",
            metrics.errors.clone(),
        );
        metrics
    }
}
