//! The service's Prometheus metrics. Each process (and each test app) owns its own
//! registry, so nothing is global and tests can assert on counts.

use prometheus_client::encoding::EncodeLabelSet;
use prometheus_client::metrics::counter::Counter;
use prometheus_client::metrics::family::Family;
use prometheus_client::metrics::gauge::Gauge;
use prometheus_client::metrics::histogram::{Histogram, exponential_buckets};
use prometheus_client::registry::Registry;

use std::sync::atomic::AtomicU64;

use prometheus_client::registry::Unit;

use super::reconcile::ConnectionLabels;
use crate::store::{EventStatus, Millis, OpenEvents};

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct HttpLabels {
    /// The standard methods by name, any other as `other` (bounded cardinality).
    pub method: &'static str,
    /// The matched route template, never the raw path (bounded cardinality).
    pub route: String,
    pub status: u16,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct StatusLabels {
    pub status: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct GhlRequestLabels {
    /// The connection whose work sent it.
    pub connection: String,
    /// The operation (`contacts.get`, …), never the raw path.
    pub endpoint: String,
    /// The HTTP status, or `timeout` / `connection`.
    pub outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct LocationLabels {
    pub location: String,
}

/// A connection and the GHL location it syncs with (one lane per location).
#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RateLimitedLabels {
    pub connection: String,
    pub location: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct RefreshLabels {
    pub connection: String,
    /// `ok`, `refused` or `failed`.
    pub outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct WorkerLabels {
    /// The event's connection (`default` for an event stored without one).
    pub connection: String,
    /// `ghl`, `tovuti`, `poller` or `sweep`.
    pub source: String,
    /// `done`, `echo`, `ignored`, `superseded`, `retry`, `wait` or `dead`.
    pub outcome: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct DeadLabels {
    /// The event's connection (`default` for an event stored without one).
    pub connection: String,
    /// `ghl`, `tovuti`, `poller` or `sweep`.
    pub source: String,
    /// `rejected` (the platform refused it as it is) or `retries_exhausted`.
    pub reason: String,
}

#[derive(Debug, Clone, Hash, PartialEq, Eq, EncodeLabelSet)]
pub struct SkippedLabels {
    /// The platform that lacks the item: `ghl` or `tovuti`.
    pub platform: String,
    /// `custom_field`, `group` or `course`.
    pub kind: String,
}

/// Every metric family, registered once.
pub struct Metrics {
    registry: Registry,
    /// HTTP requests answered, by method, route and status.
    pub http_requests: Family<HttpLabels, Counter>,
    /// HTTP request latency, by method, route and status.
    pub http_duration: Family<HttpLabels, Histogram>,
    /// Unfinished inbox events by status, refreshed at each scrape.
    pub inbox_events: Family<StatusLabels, Gauge>,
    /// Age of the oldest unfinished inbox event by status, refreshed at each scrape.
    pub inbox_oldest_age: Family<StatusLabels, Gauge<f64, AtomicU64>>,
    /// 1 when the last store check succeeded.
    pub store_up: Gauge,
    /// Requests sent to GHL, by connection, operation and outcome.
    pub ghl_requests: Family<GhlRequestLabels, Counter>,
    /// 429 answers received from GHL, by connection and location (the throttle aims
    /// for none).
    pub ghl_rate_limited: Family<RateLimitedLabels, Counter>,
    /// Time calls waited in their location's lane before being sent, by connection.
    pub ghl_throttle_wait: Family<ConnectionLabels, Histogram>,
    /// GHL's `X-RateLimit-Daily-Remaining`, last seen, by location.
    pub ghl_daily_remaining: Family<LocationLabels, Gauge>,
    /// OAuth token refreshes, by connection and outcome.
    pub ghl_token_refreshes: Family<RefreshLabels, Counter>,
    /// Times a connection moved to `needs_reauth` because GHL refused its credentials.
    pub ghl_needs_reauth: Family<ConnectionLabels, Counter>,
    /// Events the worker finished an attempt on, by connection, source and outcome.
    pub worker_events: Family<WorkerLabels, Counter>,
    /// Time the worker spent on one attempt of one event.
    pub worker_duration: Histogram,
    /// Events that went `dead`, by connection, source and reason class.
    pub dead_events: Family<DeadLabels, Counter>,
    /// Finished events removed after their retention.
    pub events_pruned: Counter,
    /// State updates not applied because a newer one replaced them (coalescing, late
    /// redeliveries).
    pub events_superseded: Counter,
    /// Items left out of a write because the other side lacks them, by platform and kind.
    pub sync_items_skipped: Family<SkippedLabels, Counter>,
    /// The GHL reconciliation sweep.
    pub reconcile: super::reconcile::ReconcileFamilies,
    /// The Tovuti poller's families.
    pub poll: super::PollMetrics,
}

impl Default for Metrics {
    fn default() -> Self {
        Self::new()
    }
}

impl Metrics {
    pub fn new() -> Self {
        let mut registry = Registry::with_prefix("bridge");
        let http_requests = Family::<HttpLabels, Counter>::default();
        registry.register(
            "http_requests",
            "HTTP requests answered",
            http_requests.clone(),
        );
        let http_duration = Family::<HttpLabels, Histogram>::new_with_constructor(|| {
            Histogram::new(exponential_buckets(0.0005, 2.0, 16))
        });
        let help = "HTTP request latency";
        registry.register("http_request_duration_seconds", help, http_duration.clone());
        let inbox_events = Family::<StatusLabels, Gauge>::default();
        let help = "Unfinished inbox events by status";
        registry.register("inbox_events", help, inbox_events.clone());
        let inbox_oldest_age = Family::<StatusLabels, Gauge<f64, AtomicU64>>::default();
        let help = "Age of the oldest unfinished inbox event by status";
        registry.register_with_unit(
            "inbox_oldest_age",
            help,
            Unit::Seconds,
            inbox_oldest_age.clone(),
        );
        let store_up = Gauge::default();
        registry.register(
            "store_up",
            "1 when the store answered the last check",
            store_up.clone(),
        );
        let ghl = GhlFamilies::register(&mut registry);
        let worker_events = Family::<WorkerLabels, Counter>::default();
        let help = "Event attempts finished by the worker, by source and outcome";
        registry.register("worker_events", help, worker_events.clone());
        let worker_duration = Histogram::new(exponential_buckets(0.001, 2.0, 16));
        let help = "Time one attempt at one event took";
        registry.register_with_unit(
            "worker_attempt_duration",
            help,
            Unit::Seconds,
            worker_duration.clone(),
        );
        let dead_events = Family::<DeadLabels, Counter>::default();
        let help = "Events that went dead, by source and reason class";
        registry.register("dead_events", help, dead_events.clone());
        let events_superseded = Counter::default();
        let help = "State updates replaced by a newer one and not applied";
        registry.register("events_superseded", help, events_superseded.clone());
        let events_pruned = Counter::default();
        let help = "Finished events removed after the retention period";
        registry.register("events_pruned", help, events_pruned.clone());
        let sync_items_skipped = Family::<SkippedLabels, Counter>::default();
        let help =
            "Fields, groups and courses left out of writes because the other side lacks them";
        registry.register("sync_items_skipped", help, sync_items_skipped.clone());
        let reconcile = super::reconcile::ReconcileFamilies::register(&mut registry);
        let poll = super::PollMetrics::register(&mut registry);
        Self {
            registry,
            http_requests,
            http_duration,
            inbox_events,
            inbox_oldest_age,
            store_up,
            ghl_requests: ghl.requests,
            ghl_rate_limited: ghl.rate_limited,
            ghl_throttle_wait: ghl.throttle_wait,
            ghl_daily_remaining: ghl.daily_remaining,
            ghl_token_refreshes: ghl.token_refreshes,
            ghl_needs_reauth: ghl.needs_reauth,
            worker_events,
            worker_duration,
            dead_events,
            events_pruned,
            events_superseded,
            sync_items_skipped,
            reconcile,
            poll,
        }
    }

    /// Lets other modules register their own families at startup.
    pub fn registry_mut(&mut self) -> &mut Registry {
        &mut self.registry
    }

    /// Records the inbox depth and age; statuses absent from `open` read 0.
    pub fn set_inbox_depth(&self, open: &[OpenEvents], now: Millis) {
        for status in EventStatus::OPEN {
            let labels = StatusLabels {
                status: status.as_str().to_owned(),
            };
            let found = open.iter().find(|o| o.status == status);
            let count = found.map_or(0, |o| o.count);
            let age_ms = found.map_or(0, |o| now.0.saturating_sub(o.oldest_received_at.0).max(0));
            self.inbox_events
                .get_or_create(&labels)
                .set(i64::try_from(count).unwrap_or(i64::MAX));
            self.inbox_oldest_age
                .get_or_create(&labels)
                .set(age_ms as f64 / 1000.0);
        }
    }

    /// The OpenMetrics text exposition.
    pub fn encode(&self) -> String {
        let mut out = String::new();
        // Writing into a String cannot fail.
        let _ = prometheus_client::encoding::text::encode(&mut out, &self.registry);
        out
    }
}

/// The GHL client's families, registered together.
struct GhlFamilies {
    requests: Family<GhlRequestLabels, Counter>,
    rate_limited: Family<RateLimitedLabels, Counter>,
    throttle_wait: Family<ConnectionLabels, Histogram>,
    daily_remaining: Family<LocationLabels, Gauge>,
    token_refreshes: Family<RefreshLabels, Counter>,
    needs_reauth: Family<ConnectionLabels, Counter>,
}

impl GhlFamilies {
    fn register(registry: &mut Registry) -> Self {
        let families = Self {
            requests: Family::default(),
            rate_limited: Family::default(),
            throttle_wait: Family::new_with_constructor(|| {
                Histogram::new(exponential_buckets(0.001, 2.0, 16))
            }),
            daily_remaining: Family::default(),
            token_refreshes: Family::default(),
            needs_reauth: Family::default(),
        };
        let r = registry;
        r.register(
            "ghl_requests",
            "Requests sent to GHL",
            families.requests.clone(),
        );
        r.register(
            "ghl_rate_limited",
            "429 answers from GHL",
            families.rate_limited.clone(),
        );
        r.register(
            "ghl_throttle_wait_seconds",
            "Time a call waited in its location's lane",
            families.throttle_wait.clone(),
        );
        r.register(
            "ghl_daily_remaining",
            "GHL's reported daily requests remaining",
            families.daily_remaining.clone(),
        );
        r.register(
            "ghl_token_refreshes",
            "OAuth token refreshes",
            families.token_refreshes.clone(),
        );
        r.register(
            "ghl_needs_reauth",
            "Connections whose credentials GHL refused",
            families.needs_reauth.clone(),
        );
        families
    }
}
