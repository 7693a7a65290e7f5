//! What the store hands the admin API (and the `events` command): event listings without
//! bodies, action log entries, dead and open counts per connection, and the audit log;
//! and the store interface that reads and writes them.

use async_trait::async_trait;

use super::{EventId, EventStatus, Millis, Source, StoreResult};

/// What the admin API and the `events` command read: the audit log and event queries.
#[async_trait]
pub trait AdminQueries: Send + Sync {
    /// Appends one entry to the audit log.
    async fn record_audit(&self, entry: &NewAuditEntry) -> StoreResult<()>;
    /// The audit entries `query` matches, newest first, at most `query.limit`.
    async fn audit_entries(&self, query: &AuditQuery) -> StoreResult<Vec<AuditEntry>>;
    /// The events `query` matches, last received first, at most `query.limit`; no bodies.
    async fn list_events(&self, query: &EventQuery) -> StoreResult<Vec<EventSummary>>;
    /// The action log entries recorded for one event, in the order they were recorded.
    async fn event_actions(&self, id: EventId) -> StoreResult<Vec<EventAction>>;
    /// Dead events counted per connection and last error.
    async fn dead_event_errors(&self) -> StoreResult<Vec<DeadErrors>>;
    /// Unfinished events (pending, processing, retrying, dead) counted per connection and
    /// status, with the oldest receive time of each.
    async fn open_events_by_connection(&self) -> StoreResult<Vec<ConnectionBacklog>>;
}

/// Which events a listing returns, newest first. Every given criterion must match.
#[derive(Debug, Clone, Default)]
pub struct EventQuery {
    /// Empty: any status.
    pub statuses: Vec<EventStatus>,
    pub source: Option<Source>,
    pub event_type: Option<String>,
    pub connection_id: Option<String>,
    pub entity_key: Option<String>,
    /// Inclusive.
    pub received_from: Option<Millis>,
    /// Exclusive.
    pub received_until: Option<Millis>,
    /// Text the last error contains (ASCII case ignored).
    pub error_text: Option<String>,
    /// Only events stored before this receive position: where the previous page ended.
    pub before: Option<i64>,
    /// Most rows returned.
    pub limit: u32,
}

/// One inbox event without its headers and body.
#[derive(Debug, Clone, PartialEq)]
pub struct EventSummary {
    /// Receive position, the listing's order and its cursor.
    pub seq: i64,
    pub id: EventId,
    pub source: Source,
    pub connection_id: Option<String>,
    pub event_type: String,
    pub entity_key: Option<String>,
    pub status: EventStatus,
    pub attempts: u32,
    pub received_at: Millis,
    pub next_attempt_at: Millis,
    pub updated_at: Millis,
    pub last_error: Option<String>,
}

/// One action log entry of an event: an effect on a platform, started or done.
#[derive(Debug, Clone, PartialEq)]
pub struct EventAction {
    pub idempotency_key: String,
    pub action: String,
    /// `started` (the effect may or may not have happened) or `done`.
    pub state: String,
    /// What the action produced (e.g. a created task's id); null while started.
    pub outcome: serde_json::Value,
    pub recorded_at: Millis,
}

/// Dead events of one connection that share a last error.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct DeadErrors {
    pub connection_id: Option<String>,
    pub last_error: Option<String>,
    pub count: u64,
}

/// Unfinished events of one connection in one status.
#[derive(Debug, Clone, PartialEq, Eq)]
pub struct ConnectionBacklog {
    pub connection_id: Option<String>,
    pub status: EventStatus,
    pub count: u64,
    pub oldest_received_at: Millis,
}

/// An audit log entry to append.
#[derive(Debug, Clone, PartialEq)]
pub struct NewAuditEntry {
    pub at: Millis,
    /// The first 8 hex digits of the SHA-256 of the bearer token used; never the token.
    pub token_id: String,
    /// What was done, e.g. `event.replay`.
    pub action: String,
    pub connection_id: Option<String>,
    /// What it was done to, e.g. an event id.
    pub target: Option<String>,
    /// A JSON object with the particulars; never a secret.
    pub detail: serde_json::Value,
}

/// A stored audit log entry; `seq` is its id and its position.
#[derive(Debug, Clone, PartialEq)]
pub struct AuditEntry {
    pub seq: i64,
    pub entry: NewAuditEntry,
}

/// Which audit entries a listing returns, newest first.
#[derive(Debug, Clone, Default)]
pub struct AuditQuery {
    pub connection_id: Option<String>,
    pub action: Option<String>,
    /// Inclusive.
    pub since: Option<Millis>,
    /// Exclusive.
    pub until: Option<Millis>,
    /// Only entries before this position: where the previous page ended.
    pub before: Option<i64>,
    pub limit: u32,
}
