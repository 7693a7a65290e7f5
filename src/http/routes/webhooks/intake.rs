//! What both front doors share: the verifiers built at startup, back-pressure, recording
//! with a deadline, and the answers.

use std::sync::Arc;
use std::time::{Duration, Instant};

use anyhow::Context as _;
use axum::Json;
use axum::extract::rejection::BytesRejection;
use axum::http::{HeaderMap, StatusCode, header};
use axum::response::{IntoResponse, Response};
use prometheus_client::registry::Registry;
use serde_json::json;

use super::backlog::{self, Backlog};
use super::lookup::TtlCache;
use super::metrics::{DeliveryOutcome, WebhookMetrics};
use crate::config::Config;
use crate::http::ApiError;
use crate::http::AppState;
use crate::platforms::VerifyError;
use crate::platforms::ghl::GhlVerifier;
use crate::platforms::tovuti::{AcceptPolicy, TovutiVerifier, WebhookSecret};
use crate::store::{EventStatus, Millis, NewEvent, Recorded, StoreError};

/// A connection's verifier as remembered, good until its first secret expires (or the
/// cache's TTL, whichever comes first), so an expired secret never verifies.
#[derive(Debug, Clone)]
pub(super) struct CachedVerifier {
    pub(super) verifier: Arc<TovutiVerifier>,
    pub(super) valid_until: Option<Millis>,
}

/// Built once at startup from the configuration; shared by every webhook request.
#[derive(Debug)]
pub struct WebhookIntake {
    pub(super) ghl: GhlVerifier,
    pub(super) tovuti_default: Arc<TovutiVerifier>,
    pub(super) tovuti_tolerance: Duration,
    pub(super) metrics: WebhookMetrics,
    pub(super) locations: TtlCache<String, Option<String>>,
    pub(super) tovuti_connections: TtlCache<String, CachedVerifier>,
    pub(super) backlog: Arc<Backlog>,
    store_timeout: Duration,
    retry_after: Duration,
}

impl WebhookIntake {
    /// Parses keys and secrets (a bad one stops startup, naming the key) and registers the
    /// webhook metrics.
    pub fn from_config(config: &Config, registry: &mut Registry) -> anyhow::Result<Self> {
        let settings = &config.webhooks;
        let ghl = &settings.ghl;
        let ghl = GhlVerifier::new(
            ghl.ed25519_key(),
            ghl.legacy_rsa.then(|| ghl.rsa_key()),
            Duration::from_secs(ghl.timestamp_tolerance_secs),
        )
        .context("webhooks.ghl keys")?;
        let tovuti = &settings.tovuti;
        let secrets = tovuti
            .secret_list()
            .into_iter()
            .map(WebhookSecret::parse)
            .collect::<Result<Vec<_>, _>>()
            .context("webhooks.tovuti.secrets")?;
        let policy = AcceptPolicy {
            simple_signature: tovuti.simple_signature,
            unsigned: tovuti.unsigned,
        };
        if policy.unsigned {
            tracing::warn!(
                "webhooks.tovuti.unsigned is on: unsigned Tovuti deliveries are accepted"
            );
        }
        let tolerance = Duration::from_secs(tovuti.timestamp_tolerance_secs);
        let cache_ttl = Duration::from_secs(settings.lookup_cache_secs);
        Ok(Self {
            ghl,
            tovuti_default: Arc::new(TovutiVerifier::new(secrets, policy, tolerance)),
            tovuti_tolerance: tolerance,
            metrics: WebhookMetrics::register(registry),
            locations: TtlCache::new(cache_ttl, |connection| {
                connection.as_ref().map_or(0, String::len)
            }),
            // The verifier is shared behind the `Arc`; its size is what the entry keeps alive.
            tovuti_connections: TtlCache::new(cache_ttl, |_| size_of::<TovutiVerifier>()),
            backlog: Arc::new(Backlog::new(
                settings.max_backlog,
                settings.backlog_check_ms,
            )),
            store_timeout: settings.store_timeout(),
            retry_after: settings.retry_after(),
        })
    }

    /// Named Tovuti connections whose verifier is remembered now.
    pub fn cached_connections(&self) -> usize {
        self.tovuti_connections.entry_count()
    }

    /// Drops what is remembered of a connection (its verifier and the location lookups
    /// naming it), so a change made in this process (a new or revoked webhook secret, a
    /// removal) applies to the next delivery. Changes made elsewhere (another replica, the
    /// CLI) apply within `webhooks.lookup_cache_secs`.
    pub fn forget_connection(&self, connection: &str) {
        self.tovuti_connections.remove(connection);
        self.locations
            .remove_values(|named| named.as_deref() == Some(connection));
    }

    /// Runs `verify`, timing it and counting a rejection. Rejections are logged without
    /// the body or any header value.
    pub(super) fn verified<T>(
        &self,
        source: &'static str,
        verify: impl FnOnce() -> Result<T, VerifyError>,
    ) -> Result<T, ApiError> {
        let started = Instant::now();
        let result = verify();
        self.metrics
            .observe_verification(source, started.elapsed().as_secs_f64());
        result.map_err(|error| {
            let outcome = match error {
                VerifyError::Stale => DeliveryOutcome::RejectedStale,
                _ => DeliveryOutcome::RejectedSignature,
            };
            self.metrics.count(source, "unverified", outcome);
            tracing::info!(source, reason = %error, "webhook rejected");
            ApiError::Unauthorized(error.to_string())
        })
    }

    /// Commits `event` or explains why not with a 429: draining, backlog at its bound,
    /// store failure or a store slower than the deadline. Never a 5xx, because GHL
    /// redelivers only on 429 and treats every other answer as final.
    pub(super) async fn record(
        &self,
        state: &AppState,
        event: NewEvent,
        type_label: &'static str,
    ) -> Result<Recorded, ApiError> {
        let source = event.source.as_str();
        let refused = |detail: &str| self.refuse(source, type_label, detail);
        if state.is_draining() {
            return Err(refused("the service is shutting down"));
        }
        let Some(place) = self.backlog.admit(&state.store, Millis::now()).await else {
            return Err(refused("the inbox is over its bound"));
        };
        let unfinished = backlog::is_unfinished(event.status);
        let stored = within(self.store_timeout, state.store.record_event(event)).await;
        // A duplicate, an event kept for the record only, or one not stored gives its
        // place back; new work holds it until the next count sees the event.
        if unfinished && matches!(stored, Ok(Recorded::New(_))) {
            place.keep();
        }
        stored.map_err(|why| {
            if crate::telemetry::warnings::WEBHOOK_NOT_STORED.admit() {
                tracing::warn!(source, reason = %why, "webhook not stored; sender asked to retry");
            }
            refused("the event cannot be stored right now")
        })
    }
}

/// Why a delivery was not stored; either way the sender is asked to retry.
#[derive(Debug, thiserror::Error)]
pub(super) enum NotStored {
    #[error("{0}")]
    Failed(#[from] StoreError),
    #[error("the store did not commit within the deadline")]
    TimedOut,
}

/// Awaits a store call for at most `deadline`. A call cut short may still commit; the
/// sender's retry then finds it as a duplicate, so nothing is lost or doubled.
pub(super) async fn within<T>(
    deadline: Duration,
    call: impl Future<Output = Result<T, StoreError>>,
) -> Result<T, NotStored> {
    match tokio::time::timeout(deadline, call).await {
        Ok(result) => Ok(result?),
        Err(_) => Err(NotStored::TimedOut),
    }
}

impl WebhookIntake {
    /// A 429 with `Retry-After`, counted as throttled.
    pub(super) fn refuse(
        &self,
        source: &'static str,
        type_label: &'static str,
        detail: &str,
    ) -> ApiError {
        self.metrics
            .count(source, type_label, DeliveryOutcome::Throttled);
        ApiError::Throttled {
            detail: detail.to_owned(),
            retry_after: self.retry_after,
        }
    }
}

/// 413 for an oversize body (also when it arrives without a length), else 400.
pub(super) fn body_or_problem(
    body: Result<axum::body::Bytes, BytesRejection>,
) -> Result<axum::body::Bytes, ApiError> {
    body.map_err(|rejection| match rejection.status() {
        StatusCode::PAYLOAD_TOO_LARGE => ApiError::PayloadTooLarge,
        _ => ApiError::BadRequest("the request body could not be read".to_owned()),
    })
}

/// Webhooks are JSON. A missing Content-Type is let through to verification (a genuine
/// GHL delivery must not be lost over a header); a different type is refused.
pub(super) fn require_json(headers: &HeaderMap) -> Result<(), ApiError> {
    let Some(value) = headers.get(header::CONTENT_TYPE) else {
        return Ok(());
    };
    let essence = value
        .to_str()
        .unwrap_or_default()
        .split(';')
        .next()
        .unwrap_or_default()
        .trim();
    let essence = essence.to_ascii_lowercase();
    if essence == "application/json"
        || (essence.starts_with("application/") && essence.ends_with("+json"))
    {
        Ok(())
    } else {
        Err(ApiError::UnsupportedMediaType(
            "webhooks must be sent as application/json".to_owned(),
        ))
    }
}

/// How a verified delivery is stored, answered and counted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub(super) enum Disposition {
    /// To be processed.
    Process,
    /// Stored for the record only.
    Ignore,
    /// Genuine but unreadable JSON-wise: stored, answered 200.
    Unparseable,
    /// Genuine but not JSON at all: stored, answered 400 so the sender learns.
    NotJson,
}

impl Disposition {
    /// Only events to process are pending; the rest are kept for the record.
    pub(super) fn status(self) -> EventStatus {
        match self {
            Self::Process => EventStatus::Pending,
            Self::Ignore | Self::Unparseable | Self::NotJson => EventStatus::Ignored,
        }
    }
}

/// The answer to a stored delivery, counted under `type_label`.
pub(super) fn answer(
    intake: &WebhookIntake,
    source: &'static str,
    type_label: &'static str,
    disposition: Disposition,
    recorded: Recorded,
) -> Response {
    let (outcome, status, id) = match (recorded, disposition) {
        (Recorded::Duplicate(id), _) => (DeliveryOutcome::Duplicate, "duplicate", id),
        (Recorded::New(id), Disposition::Process) => (DeliveryOutcome::Accepted, "accepted", id),
        (Recorded::New(id), Disposition::Ignore) => (DeliveryOutcome::Ignored, "ignored", id),
        (Recorded::New(id), Disposition::Unparseable | Disposition::NotJson) => {
            (DeliveryOutcome::Unparseable, "unparseable", id)
        }
    };
    intake.metrics.count(source, type_label, outcome);
    if disposition == Disposition::NotJson {
        let detail = format!(
            "the body is not a JSON object of at most {MAX_NESTING} levels; it was stored as \
             event {id} for an operator"
        );
        return ApiError::BadRequest(detail).into_response();
    }
    (
        StatusCode::OK,
        Json(json!({ "status": status, "event_id": id.to_string() })),
    )
        .into_response()
}

/// The deepest nesting read: serde_json's own limit, which the GHL path meets when it
/// parses the body and the Tovuti path when it parses an event's fields.
pub(super) const MAX_NESTING: usize = 128;

/// The note of a genuine delivery that is not a JSON object the service can read.
pub(super) fn not_json_note(body: &[u8]) -> String {
    let why = if nested_deeper_than(body, MAX_NESTING) {
        "nested deeper than 128 levels"
    } else {
        "the body is not a JSON object"
    };
    format!("unparseable: {why}")
}

/// Whether arrays and objects in `body` nest deeper than `limit`, brackets inside strings
/// aside. Used only on a body that failed to parse, to tell why.
pub(super) fn nested_deeper_than(body: &[u8], limit: usize) -> bool {
    let (mut depth, mut in_string, mut escaped) = (0usize, false, false);
    for &byte in body {
        if in_string {
            match byte {
                _ if escaped => escaped = false,
                b'\\' => escaped = true,
                b'"' => in_string = false,
                _ => {}
            }
            continue;
        }
        match byte {
            b'"' => in_string = true,
            b'{' | b'[' => {
                depth += 1;
                if depth > limit {
                    return true;
                }
            }
            b'}' | b']' => depth = depth.saturating_sub(1),
            _ => {}
        }
    }
    false
}

/// Headers kept with the event for operators: never signatures' secrets (there are none in
/// them) nor authorization; values that are not text are skipped.
pub(super) fn kept_headers(headers: &HeaderMap, scheme: &str) -> serde_json::Value {
    let mut kept = serde_json::Map::new();
    for name in [
        "content-type",
        "user-agent",
        "x-request-id",
        "webhook-id",
        "webhook-timestamp",
    ] {
        if let Some(value) = headers.get(name).and_then(|v| v.to_str().ok()) {
            kept.insert(name.to_owned(), json!(value));
        }
    }
    kept.insert("signature-scheme".to_owned(), json!(scheme));
    serde_json::Value::Object(kept)
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn nesting_counts_arrays_and_objects_but_not_brackets_in_strings() {
        let deep = |n: usize| format!("{}{}", "[{\"a\":".repeat(n), "1}]".repeat(n));

        assert!(!nested_deeper_than(deep(64).as_bytes(), 128));
        assert!(nested_deeper_than(deep(65).as_bytes(), 128));
        let quoted = format!(r#"{{"a":"{}\"{}"}}"#, "[".repeat(200), "{".repeat(200));
        assert!(!nested_deeper_than(quoted.as_bytes(), 128));
    }

    #[tokio::test(start_paused = true)]
    async fn a_store_slower_than_the_deadline_is_cut_short() {
        let never = std::future::pending::<Result<(), StoreError>>();

        let outcome = within(Duration::from_secs(2), never).await;

        assert!(matches!(outcome, Err(NotStored::TimedOut)));
    }

    #[tokio::test(start_paused = true)]
    async fn a_store_error_and_a_timely_answer_pass_through() {
        let failed = async { Err::<(), _>(StoreError::Unavailable("down".into())) };
        let stored = async { Ok::<_, StoreError>(7) };

        assert!(matches!(
            within(Duration::from_secs(2), failed).await,
            Err(NotStored::Failed(_))
        ));
        assert_eq!(within(Duration::from_secs(2), stored).await.unwrap(), 7);
    }
}
