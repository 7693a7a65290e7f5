//! The JSON shapes of the admin API (and of `events … --json`). Instants are RFC 3339;
//! nothing here carries a payload unless the caller asked for it.

use serde::Serialize;

use super::events::EventDetail;
use super::rfc3339;
use crate::store::{AttemptRecord, AuditEntry, EventAction, EventSummary, StoredEvent};

/// An event as a listing shows it.
#[derive(Debug, Clone, Serialize)]
pub struct EventView {
    pub id: String,
    pub status: &'static str,
    pub source: &'static str,
    #[serde(rename = "type")]
    pub event_type: String,
    pub connection: Option<String>,
    pub entity: Option<String>,
    pub attempts: u32,
    pub received_at: String,
    pub next_attempt_at: String,
    pub last_error: Option<String>,
}

impl From<&EventSummary> for EventView {
    fn from(e: &EventSummary) -> Self {
        Self {
            id: e.id.to_string(),
            status: e.status.as_str(),
            source: e.source.as_str(),
            event_type: e.event_type.clone(),
            connection: e.connection_id.clone(),
            entity: e.entity_key.clone(),
            attempts: e.attempts,
            received_at: rfc3339(e.received_at),
            next_attempt_at: rfc3339(e.next_attempt_at),
            last_error: e.last_error.clone(),
        }
    }
}

impl From<&StoredEvent> for EventView {
    fn from(e: &StoredEvent) -> Self {
        Self {
            id: e.id.to_string(),
            status: e.status.as_str(),
            source: e.source.as_str(),
            event_type: e.event_type.clone(),
            connection: e.connection_id.clone(),
            entity: e.entity_key.clone(),
            attempts: e.attempts,
            received_at: rfc3339(e.received_at),
            next_attempt_at: rfc3339(e.next_attempt_at),
            last_error: e.last_error.clone(),
        }
    }
}

/// One attempt at an event.
#[derive(Debug, Clone, Serialize)]
pub struct AttemptView {
    pub attempt: u32,
    pub started_at: String,
    pub finished_at: String,
    pub duration_ms: i64,
    pub outcome: String,
    pub error: Option<String>,
    /// The downstream requests made (method, path, status; no headers or bodies).
    pub requests: serde_json::Value,
}

impl From<&AttemptRecord> for AttemptView {
    fn from(a: &AttemptRecord) -> Self {
        Self {
            attempt: a.attempt,
            started_at: rfc3339(a.started_at),
            finished_at: rfc3339(a.finished_at),
            duration_ms: a.finished_at.0.saturating_sub(a.started_at.0),
            outcome: a.outcome.clone(),
            error: a.error.clone(),
            requests: a.requests.clone(),
        }
    }
}

/// One action log entry.
#[derive(Debug, Clone, Serialize)]
pub struct ActionView {
    pub key: String,
    pub action: String,
    pub state: String,
    pub outcome: serde_json::Value,
    pub recorded_at: String,
}

impl From<&EventAction> for ActionView {
    fn from(a: &EventAction) -> Self {
        Self {
            key: a.idempotency_key.clone(),
            action: a.action.clone(),
            state: a.state.clone(),
            outcome: a.outcome.clone(),
            recorded_at: rfc3339(a.recorded_at),
        }
    }
}

/// A mapped item an attempt left out because the other side lacks it.
#[derive(Debug, Clone, Serialize)]
pub struct SkippedView {
    pub attempt: u32,
    pub platform: String,
    pub item: String,
    pub reason: String,
}

/// The stored delivery, only when asked for: it holds personal data.
#[derive(Debug, Clone, Serialize)]
pub struct PayloadView {
    pub external_id: String,
    pub headers: serde_json::Value,
    /// The body as JSON when it is JSON, else as text (lossy UTF-8).
    pub body: serde_json::Value,
}

/// An event with its history.
#[derive(Debug, Clone, Serialize)]
pub struct EventDetailView {
    #[serde(flatten)]
    pub event: EventView,
    pub attempt_log: Vec<AttemptView>,
    pub actions: Vec<ActionView>,
    pub skipped: Vec<SkippedView>,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub payload: Option<PayloadView>,
}

impl EventDetailView {
    pub fn new(detail: &EventDetail, with_payload: bool) -> Self {
        let payload = with_payload.then(|| PayloadView {
            external_id: detail.event.external_id.clone(),
            headers: detail.event.headers.clone(),
            body: serde_json::from_slice(&detail.event.body).unwrap_or_else(|_| {
                serde_json::Value::String(String::from_utf8_lossy(&detail.event.body).into_owned())
            }),
        });
        Self {
            event: EventView::from(&detail.event),
            attempt_log: detail.attempts.iter().map(AttemptView::from).collect(),
            actions: detail.actions.iter().map(ActionView::from).collect(),
            skipped: detail.attempts.iter().flat_map(skipped_in).collect(),
            payload,
        }
    }
}

/// The skipped items an attempt noted: request log entries with the method `SKIP`.
fn skipped_in(attempt: &AttemptRecord) -> Vec<SkippedView> {
    let Some(entries) = attempt.requests.as_array() else {
        return Vec::new();
    };
    let text =
        |entry: &serde_json::Value, key: &str| entry[key].as_str().unwrap_or_default().to_owned();
    entries
        .iter()
        .filter(|entry| entry["method"] == "SKIP")
        .map(|entry| SkippedView {
            attempt: attempt.attempt,
            platform: text(entry, "platform"),
            item: text(entry, "path"),
            reason: text(entry, "outcome"),
        })
        .collect()
}

/// An audit log entry.
#[derive(Debug, Clone, Serialize)]
pub struct AuditView {
    pub id: String,
    pub at: String,
    pub token_id: String,
    pub action: String,
    pub connection: Option<String>,
    pub target: Option<String>,
    pub detail: serde_json::Value,
}

impl From<&AuditEntry> for AuditView {
    fn from(a: &AuditEntry) -> Self {
        Self {
            id: a.seq.to_string(),
            at: rfc3339(a.entry.at),
            token_id: a.entry.token_id.clone(),
            action: a.entry.action.clone(),
            connection: a.entry.connection_id.clone(),
            target: a.entry.target.clone(),
            detail: a.entry.detail.clone(),
        }
    }
}
