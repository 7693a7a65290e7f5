//! Makes a dead event loud: one WARN line naming it and why, and a counter by reason
//! class, so an operator learns of it without reading the inbox.

use crate::config::DEFAULT_CONNECTION;
use crate::services::Services;
use crate::store::StoredEvent;
use crate::telemetry::DeadLabels;

/// Why an event went dead, as a small closed set fit for a metric label.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum DeadReason {
    /// The platform refused the request as it is (a 4xx such as 422).
    Rejected,
    /// Every attempt of the retry schedule failed.
    RetriesExhausted,
}

impl DeadReason {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Rejected => "rejected",
            Self::RetriesExhausted => "retries_exhausted",
        }
    }
}

/// Reports an event the store has just marked dead. `reason` is the text stored as the
/// event's last error: platform answers in it were redacted when the error was built, so
/// it carries no credentials or personal data.
pub fn report(services: &Services, event: &StoredEvent, class: DeadReason, reason: &str) {
    tracing::warn!(
        event.id = %event.id,
        event.source = event.source.as_str(),
        event.r#type = %event.event_type,
        connection.id = event.connection_id.as_deref().unwrap_or(DEFAULT_CONNECTION),
        event.attempts = event.attempts,
        reason.class = class.as_str(),
        reason = %reason,
        "event is dead: it will not be tried again until it is replayed"
    );
    let labels = DeadLabels {
        connection: event
            .connection_id
            .clone()
            .unwrap_or_else(|| DEFAULT_CONNECTION.to_owned()),
        source: event.source.as_str().to_owned(),
        reason: class.as_str().to_owned(),
    };
    services.metrics.dead_events.get_or_create(&labels).inc();
}
