//! `POST /webhooks/tovuti[/{connection}]`: the service's own Tovuti contract
//! (`docs/tovuti-webhooks.md`): verify, store, answer.

use std::sync::Arc;

use axum::body::Bytes;
use axum::extract::rejection::BytesRejection;
use axum::extract::{Path, State};
use axum::http::HeaderMap;
use axum::response::Response;
use jiff::Timestamp;

use super::intake::CachedVerifier;
use super::intake::{
    Disposition, MAX_NESTING, answer, body_or_problem, kept_headers, nested_deeper_than,
    not_json_note, require_json,
};
use crate::config::DEFAULT_CONNECTION;
use crate::connections::live_secrets;
use crate::http::ApiError;
use crate::http::AppState;
use crate::platforms::tovuti::{
    AcceptPolicy, TovutiDelivery, TovutiScheme, TovutiVerifier, TovutiWebhook, WebhookSecret,
};
use crate::store::{ConnectionStatus, Millis, NewEvent, Source, StoreError};

pub const PATH: &str = "/webhooks/tovuti";
pub const CONNECTION_PATH: &str = "/webhooks/tovuti/{connection}";
/// The credential kind under which older versions stored a connection's webhook secrets
/// (encrypted, space separated); still read. Its metadata may say
/// `{"simple_signature": true}` or `{"unsigned": true}`.
pub const SECRET_KIND: &str = crate::connections::LEGACY_SECRET_KIND;
const SOURCE: &str = "tovuti";

pub(super) async fn receive_default(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let verifier = Arc::clone(&state.webhooks.tovuti_default);
    receive(&state, DEFAULT_CONNECTION, &verifier, &headers, body).await
}

pub(super) async fn receive_for_connection(
    State(state): State<AppState>,
    Path(connection): Path<String>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let verifier = verifier_for(&state, &connection).await.map_err(|error| {
        // One kind with intake's own refusals: during an outage both come per request.
        if crate::telemetry::warnings::WEBHOOK_NOT_STORED.admit() {
            tracing::warn!(source = SOURCE, reason = %format_args!("connection lookup failed: {error}"), "webhook not stored; sender asked to retry");
        }
        state
            .webhooks
            .refuse(SOURCE, "unverified", "the event cannot be stored right now")
    })?;
    receive(&state, &connection, &verifier, &headers, body).await
}

async fn receive(
    state: &AppState,
    connection: &str,
    verifier: &TovutiVerifier,
    headers: &HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_or_problem(body)?;
    require_json(headers)?;
    let intake = &state.webhooks;
    let delivery = intake.verified(SOURCE, || verifier.verify(headers, body, Timestamp::now()))?;
    let (event, type_label, disposition) = stored_event(connection, headers, delivery.into_inner());
    let recorded = intake.record(state, event, type_label).await?;
    Ok(answer(intake, SOURCE, type_label, disposition, recorded))
}

/// The inbox row for a verified delivery, its metric label and how it is answered. A
/// genuine delivery is always stored; what cannot be processed is `ignored` with a note.
fn stored_event(
    connection: &str,
    headers: &HeaderMap,
    delivery: TovutiDelivery,
) -> (NewEvent, &'static str, Disposition) {
    let event_type = delivery
        .meta
        .as_ref()
        .ok()
        .and_then(|m| m.event_type.clone());
    let (disposition, type_label, entity_key, note) =
        match (&delivery.meta, TovutiWebhook::parse(&delivery.body)) {
            (Err(_), _) => (
                Disposition::NotJson,
                "other",
                None,
                Some(not_json_note(&delivery.body)),
            ),
            // Only the envelope was read so far, and it skips nested values unchecked; a
            // nesting the GHL path would refuse is refused here too.
            (_, Err(_)) if nested_deeper_than(&delivery.body, MAX_NESTING) => (
                Disposition::NotJson,
                "other",
                None,
                Some(not_json_note(&delivery.body)),
            ),
            (_, Err(error)) => (
                Disposition::Unparseable,
                "other",
                None,
                Some(format!("unparseable: {error}")),
            ),
            (_, Ok(webhook)) => match webhook.event.known_type() {
                Some(known) => (
                    Disposition::Process,
                    known,
                    Some(webhook.entity_key().into()),
                    None,
                ),
                None => (
                    Disposition::Ignore,
                    "other",
                    Some(webhook.entity_key().into()),
                    Some("unknown event type".to_owned()),
                ),
            },
        };
    let scheme = match delivery.scheme {
        TovutiScheme::StandardWebhooks => "standard-webhooks",
        TovutiScheme::SimpleHmac => "x-signature",
        TovutiScheme::Unsigned => "unsigned",
    };
    let event = NewEvent {
        source: Source::Tovuti,
        connection_id: Some(connection.to_owned()),
        // Each connection is its own sender with its own ids: two LMS tenants may both send
        // `evt_1`, and one must not be taken for a redelivery of the other.
        external_id: format!("{connection}/{}", delivery.dedupe_key),
        event_type: event_type.unwrap_or_default(),
        entity_key,
        headers: kept_headers(headers, scheme),
        body: delivery.body,
        status: disposition.status(),
        note,
        received_at: Millis::now(),
    };
    (event, type_label, disposition)
}

/// The verifier of a named connection: the configured one for the default connection,
/// else built from the connection's live stored secrets, remembered for a while (until
/// `webhooks.lookup_cache_secs` passes or the first of its secrets expires, whichever is
/// sooner). An unknown connection gets a verifier that accepts nothing, so its deliveries
/// get the same 401 as a wrong secret and the URL cannot be used to discover connection
/// names.
///
/// The name comes from an unauthenticated URL, so a name no connection can have is
/// refused before the store is asked, and an unknown one is never remembered: a flood of
/// made-up names costs neither memory nor more than one lookup each.
async fn verifier_for(
    state: &AppState,
    connection: &str,
) -> Result<Arc<TovutiVerifier>, StoreError> {
    let intake = &state.webhooks;
    if connection == DEFAULT_CONNECTION {
        return Ok(Arc::clone(&intake.tovuti_default));
    }
    if !is_connection_name(connection) {
        return Ok(Arc::new(deny_all(state)));
    }
    let now = Millis::now();
    if let Some(known) = intake.tovuti_connections.get(connection)
        && known.valid_until.is_none_or(|until| until > now)
    {
        return Ok(known.verifier);
    }
    let Some(stored) = state.store.connection(connection).await? else {
        return Ok(Arc::new(deny_all(state)));
    };
    let cached = if stored.status == ConnectionStatus::Disconnected {
        CachedVerifier {
            verifier: Arc::new(deny_all(state)),
            valid_until: None,
        }
    } else {
        stored_verifier(state, connection, now).await?
    };
    intake
        .tovuti_connections
        .insert(connection.to_owned(), cached.clone());
    Ok(cached.verifier)
}

/// Longest connection name: `ghl-` and a GHL location id (20 characters today) with room
/// to spare.
const MAX_CONNECTION_NAME: usize = 64;

/// Whether `name` can name a connection: `default`, `ghl-<location id>` or an operator's
/// name of ASCII letters, digits, `-` and `_`, starting with a letter or digit.
fn is_connection_name(name: &str) -> bool {
    let bytes = name.as_bytes();
    bytes.len() <= MAX_CONNECTION_NAME
        && bytes.first().is_some_and(u8::is_ascii_alphanumeric)
        && bytes
            .iter()
            .all(|b| b.is_ascii_alphanumeric() || *b == b'-' || *b == b'_')
}

fn deny_all(state: &AppState) -> TovutiVerifier {
    TovutiVerifier::new(
        Vec::new(),
        AcceptPolicy::default(),
        state.webhooks.tovuti_tolerance,
    )
}

/// The verifier of a connection's secrets live at `now`. A connection without a (valid)
/// stored secret gets one that accepts nothing, so its deliveries are 401 until an
/// operator adds one.
async fn stored_verifier(
    state: &AppState,
    connection: &str,
    now: Millis,
) -> Result<CachedVerifier, StoreError> {
    use secrecy::ExposeSecret as _;
    let live = live_secrets(state.store.as_ref(), connection, now).await?;
    let secrets: Result<Vec<_>, _> = live
        .secrets
        .iter()
        .map(|s| WebhookSecret::parse(s.expose_secret()))
        .collect();
    let secrets = secrets.unwrap_or_else(|error| {
        tracing::warn!(connection, error = %error, "stored Tovuti webhook secret is unusable");
        Vec::new()
    });
    let flag = |name: &str| {
        live.metadata
            .get(name)
            .and_then(serde_json::Value::as_bool)
            .unwrap_or(false)
    };
    let policy = AcceptPolicy {
        simple_signature: flag("simple_signature"),
        unsigned: flag("unsigned"),
    };
    if policy.unsigned {
        tracing::warn!(
            connection,
            "unsigned Tovuti deliveries are accepted for this connection"
        );
    }
    let tolerance = state.webhooks.tovuti_tolerance;
    Ok(CachedVerifier {
        verifier: Arc::new(TovutiVerifier::new(secrets, policy, tolerance)),
        valid_until: live.valid_until,
    })
}
