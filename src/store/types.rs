//! Row and value types the store hands in and out.

use std::fmt;
use std::time::{Duration, SystemTime, UNIX_EPOCH};

use serde::{Deserialize, Serialize};
use uuid::Uuid;

/// Milliseconds since the Unix epoch: how the store keeps every instant, on both
/// backends, so comparisons are plain integer comparisons.
#[derive(Debug, Clone, Copy, PartialEq, Eq, PartialOrd, Ord, Hash, Serialize, Deserialize)]
pub struct Millis(pub i64);

impl Millis {
    pub fn now() -> Self {
        let elapsed = SystemTime::now()
            .duration_since(UNIX_EPOCH)
            .unwrap_or_default();
        Self(i64::try_from(elapsed.as_millis()).unwrap_or(i64::MAX))
    }

    pub fn plus(self, duration: Duration) -> Self {
        let ms = i64::try_from(duration.as_millis()).unwrap_or(i64::MAX);
        Self(self.0.saturating_add(ms))
    }
}

/// Public, time-ordered id of an inbox event (UUIDv7).
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
pub struct EventId(pub Uuid);

impl EventId {
    pub fn generate() -> Self {
        Self(Uuid::now_v7())
    }
}

impl fmt::Display for EventId {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        self.0.fmt(f)
    }
}

/// Which platform an event came from.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum Source {
    Ghl,
    Tovuti,
    /// Synthesized by the Tovuti poller.
    Poller,
    /// Synthesized by the GHL reconciliation sweep (or a GHL backfill): GHL-shaped events.
    Sweep,
}

/// Where an inbox event is in its life.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Serialize, Deserialize)]
#[serde(rename_all = "lowercase")]
pub enum EventStatus {
    /// Waiting for its first attempt.
    Pending,
    /// Leased by a worker.
    Processing,
    /// Its effects are applied.
    Done,
    /// Stored for the record, nothing to do (unknown type or location).
    Ignored,
    /// The other side reflecting our own write; not forwarded.
    Echo,
    /// Failed transiently; due again at `next_attempt_at`.
    Retrying,
    /// Failed permanently or out of retries; waits for an operator's replay.
    Dead,
    /// An older state update replaced by a newer one of the same entity: counted, never
    /// processed.
    Superseded,
}

macro_rules! text_enum {
    ($ty:ty { $($variant:ident = $text:literal),+ $(,)? }) => {
        impl $ty {
            pub const ALL: &'static [$ty] = &[$(<$ty>::$variant),+];

            pub fn as_str(self) -> &'static str {
                match self { $(<$ty>::$variant => $text),+ }
            }

            pub fn parse(text: &str) -> Option<Self> {
                match text { $($text => Some(<$ty>::$variant),)+ _ => None }
            }
        }

        impl fmt::Display for $ty {
            fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
                f.write_str(self.as_str())
            }
        }
    };
}

text_enum!(Source {
    Ghl = "ghl",
    Tovuti = "tovuti",
    Poller = "poller",
    Sweep = "sweep",
});
text_enum!(EventStatus {
    Pending = "pending",
    Processing = "processing",
    Done = "done",
    Ignored = "ignored",
    Echo = "echo",
    Retrying = "retrying",
    Dead = "dead",
    Superseded = "superseded",
});
text_enum!(Direction { ToGhl = "to_ghl", ToTovuti = "to_tovuti" });
text_enum!(ConnectionStatus {
    Active = "active",
    NeedsReauth = "needs_reauth",
    Disconnected = "disconnected",
});

/// An event to put in the inbox.
#[derive(Debug, Clone)]
pub struct NewEvent {
    pub source: Source,
    pub connection_id: Option<String>,
    /// The sender's id for this delivery (webhook id, or a hash of the body); with
    /// `source` it is the dedupe key.
    pub external_id: String,
    pub event_type: String,
    /// Events with the same key are processed one at a time, in receive order.
    pub entity_key: Option<String>,
    /// Headers worth keeping (never `Authorization`), as a JSON object.
    pub headers: serde_json::Value,
    /// The raw body bytes exactly as received (signatures cover these).
    pub body: bytes::Bytes,
    /// `Pending`, or `Ignored` for events stored only for the record.
    pub status: EventStatus,
    /// Why an event is stored as ignored or unparseable.
    pub note: Option<String>,
    pub received_at: Millis,
}

/// Whether `record_event` stored a new row or found the delivery already there.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Recorded {
    New(EventId),
    Duplicate(EventId),
}

impl Recorded {
    pub fn id(self) -> EventId {
        match self {
            Self::New(id) | Self::Duplicate(id) => id,
        }
    }
}

/// A stored inbox event.
#[derive(Debug, Clone)]
pub struct StoredEvent {
    pub id: EventId,
    pub source: Source,
    pub connection_id: Option<String>,
    pub external_id: String,
    pub event_type: String,
    pub entity_key: Option<String>,
    pub headers: serde_json::Value,
    pub body: Vec<u8>,
    pub status: EventStatus,
    /// Attempts started, including the current one while processing.
    pub attempts: u32,
    pub received_at: Millis,
    pub next_attempt_at: Millis,
    pub lease_owner: Option<String>,
    pub lease_expires_at: Option<Millis>,
    pub last_error: Option<String>,
    /// Whether a newer event of its entity and type was waiting when this one was
    /// claimed, so that a coalescing may supersede it; false when read other than by a
    /// claim.
    pub newer_waiting: bool,
}

/// Events of one unfinished status: how many, and since when the oldest waits.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub struct OpenEvents {
    pub status: EventStatus,
    pub count: u64,
    pub oldest_received_at: Millis,
}

impl EventStatus {
    /// The statuses `open_events_summary` reports.
    pub const OPEN: [EventStatus; 4] =
        [Self::Pending, Self::Processing, Self::Retrying, Self::Dead];
}

/// Parameters of a claim: who, when, for how long, how many.
#[derive(Debug, Clone)]
pub struct Claim {
    pub owner: String,
    pub now: Millis,
    pub lease: Duration,
    pub limit: u32,
}

/// How a claimed event ended well.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum Completion {
    Done,
    Ignored,
    Echo,
    /// A newer event of the same entity carries the state this one would have pushed.
    Superseded,
}

impl Completion {
    pub fn status(self) -> EventStatus {
        match self {
            Self::Done => EventStatus::Done,
            Self::Ignored => EventStatus::Ignored,
            Self::Echo => EventStatus::Echo,
            Self::Superseded => EventStatus::Superseded,
        }
    }
}

/// A GHL location paired with a Tovuti tenant.
#[derive(Debug, Clone, PartialEq)]
pub struct Connection {
    pub id: String,
    pub ghl_location_id: Option<String>,
    pub tovuti_base_url: Option<String>,
    pub status: ConnectionStatus,
    pub status_reason: Option<String>,
    /// A display name an operator chose.
    pub name: Option<String>,
    pub tovuti_auth_mode: super::TovutiAuthMode,
    /// Since when outbound work waits (an operator's pause); `None` when running.
    pub paused_at: Option<Millis>,
    /// A mapping file for this connection only; `None`: the configured one.
    pub mapping_path: Option<String>,
    pub poller: super::PollerOverrides,
    pub created_at: Millis,
    /// Changes with every settings or credential change made through the store's
    /// connection methods, so runtime caches can tell a stale entry.
    pub updated_at: Millis,
}

impl Connection {
    /// An operator removed it: its tokens are gone and it is not coming back.
    pub fn is_removed(&self) -> bool {
        self.status == ConnectionStatus::Disconnected
            && self.status_reason.as_deref() == Some(super::REMOVED_REASON)
    }
}

/// What the connection table should say about one connection.
#[derive(Debug, Clone)]
pub struct NewConnection {
    pub id: String,
    pub ghl_location_id: Option<String>,
    pub tovuti_base_url: Option<String>,
}

/// Which side a write went to, for echo suppression.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum Direction {
    ToGhl,
    ToTovuti,
}

/// Whether a connection may sync.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash)]
pub enum ConnectionStatus {
    Active,
    /// Credentials were refused; work waits until new ones arrive.
    NeedsReauth,
    /// Uninstalled or switched off; tokens erased.
    Disconnected,
}

/// Decrypted credentials and their non-secret facts (expiry, scopes, …).
#[derive(Debug, Clone)]
pub struct Credentials {
    pub secret: secrecy::SecretString,
    pub metadata: serde_json::Value,
    pub updated_at: Millis,
}

/// One downstream action's record, keyed by its idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub struct ActionRecord {
    pub idempotency_key: String,
    pub event_id: EventId,
    pub action: String,
    /// What the action produced (e.g. the created task's id).
    pub outcome: serde_json::Value,
    pub recorded_at: Millis,
}

/// The last state the poller saw of one entity.
#[derive(Debug, Clone, PartialEq)]
pub struct Snapshot {
    pub digest: String,
    pub state: serde_json::Value,
    pub updated_at: Millis,
}

/// Which events an operator's replay sends back to the inbox. Every given criterion must
/// match; `processing` events are never touched, whatever is asked.
#[derive(Debug, Clone, Default)]
pub struct ReplayFilter {
    /// Empty: any id.
    pub ids: Vec<EventId>,
    /// Empty: `dead` only, the usual reason to replay.
    pub statuses: Vec<EventStatus>,
    pub source: Option<Source>,
    pub event_type: Option<String>,
    /// Inclusive.
    pub received_from: Option<Millis>,
    /// Exclusive.
    pub received_until: Option<Millis>,
}

/// One attempt at an event, with the downstream requests it made, for operators.
#[derive(Debug, Clone, PartialEq)]
pub struct AttemptRecord {
    pub event_id: EventId,
    pub attempt: u32,
    pub started_at: Millis,
    pub finished_at: Millis,
    pub outcome: String,
    pub error: Option<String>,
    /// A JSON array of the requests made.
    pub requests: serde_json::Value,
}

/// What `begin_action` found under an idempotency key.
#[derive(Debug, Clone, PartialEq)]
pub enum ActionBegin {
    /// No record existed; a 'started' one now does.
    Fresh,
    /// An earlier attempt started it and did not record an end: it may or may not have
    /// happened.
    Unfinished {
        started_at: Millis,
    },
    Done(ActionRecord),
}
