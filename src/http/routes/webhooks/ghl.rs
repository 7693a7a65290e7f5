//! `POST /webhooks/ghl`: verify on the raw bytes, route by location, store, answer.

use axum::body::Bytes;
use axum::extract::State;
use axum::extract::rejection::BytesRejection;
use axum::http::HeaderMap;
use axum::response::Response;
use jiff::Timestamp;

use super::intake::{
    Disposition, answer, body_or_problem, kept_headers, not_json_note, require_json,
};
use crate::http::ApiError;
use crate::http::AppState;
use crate::platforms::ghl::{GhlDelivery, GhlEvent, GhlScheme, GhlWebhook, ParseError};
use crate::store::{Millis, NewEvent, Source, StoreError};

pub const PATH: &str = "/webhooks/ghl";
const SOURCE: &str = "ghl";

pub(super) async fn receive(
    State(state): State<AppState>,
    headers: HeaderMap,
    body: Result<Bytes, BytesRejection>,
) -> Result<Response, ApiError> {
    let body = body_or_problem(body)?;
    require_json(&headers)?;
    let intake = &state.webhooks;
    let delivery = intake.verified(SOURCE, || {
        intake.ghl.verify(&headers, body, Timestamp::now())
    })?;
    let mut delivery = delivery.into_inner();
    let plan = plan(&state, &mut delivery).await.map_err(|error| {
        // One kind with intake's own refusals: during an outage both come per request.
        if crate::telemetry::warnings::WEBHOOK_NOT_STORED.admit() {
            tracing::warn!(source = SOURCE, reason = %format_args!("location lookup failed: {error}"), "webhook not stored; sender asked to retry");
        }
        intake.refuse(SOURCE, "other", "the event cannot be stored right now")
    })?;
    let (type_label, disposition) = (plan.type_label, plan.disposition);
    let recorded = intake
        .record(&state, plan.into_event(&headers, delivery), type_label)
        .await?;
    Ok(answer(intake, SOURCE, type_label, disposition, recorded))
}

/// What intake decided about a verified delivery before storing it.
struct Plan {
    event_type: String,
    /// Known type or `other`, for metrics.
    type_label: &'static str,
    connection_id: Option<String>,
    entity_key: Option<String>,
    disposition: Disposition,
    note: Option<String>,
}

/// Parses the whole event when it can (for its entity key and type), else uses the shared
/// fields. Nothing here rejects a genuine delivery: what cannot be processed is stored as
/// `ignored` with a note saying why, and stays replayable.
async fn plan(state: &AppState, delivery: &mut GhlDelivery) -> Result<Plan, StoreError> {
    let meta = delivery.meta.as_ref().ok();
    let connection_id = match meta.and_then(|m| m.location_id.as_deref()) {
        Some(location) => connection_for_location(state, location).await?,
        None => None,
    };
    let mut plan = Plan {
        event_type: meta.and_then(|m| m.event_type.clone()).unwrap_or_default(),
        type_label: "other",
        connection_id,
        entity_key: None,
        disposition: Disposition::Ignore,
        note: None,
    };
    // The body was parsed once, during verification; its value is taken apart here.
    let parsed = delivery.json.take().map(GhlWebhook::from_value);
    match (&delivery.meta, parsed) {
        (Err(ParseError::NotJson(_) | ParseError::NotObject), _) | (_, None) => {
            plan.disposition = Disposition::NotJson;
            plan.note = Some(not_json_note(&delivery.body));
        }
        (_, Some(Err(error))) => {
            plan.disposition = Disposition::Unparseable;
            plan.note = Some(format!("unparseable: {error}"));
        }
        (_, Some(Ok(webhook))) => plan.route(&webhook),
    }
    Ok(plan)
}

impl Plan {
    /// App (un)installs concern an account that may not be connected yet, so they are
    /// processed without a connection; every other known event needs its location's.
    fn route(&mut self, webhook: &GhlWebhook) {
        self.entity_key = Some(webhook.entity_key().into());
        let Some(known) = webhook.event.known_type() else {
            self.note = Some("unknown event type".to_owned());
            return;
        };
        self.type_label = known;
        let account_level = matches!(webhook.event, GhlEvent::Install(_) | GhlEvent::Uninstall(_));
        if account_level || self.connection_id.is_some() {
            self.disposition = Disposition::Process;
        } else {
            self.note = Some("unknown location".to_owned());
        }
    }

    fn into_event(self, headers: &HeaderMap, delivery: GhlDelivery) -> NewEvent {
        let scheme = match delivery.scheme {
            GhlScheme::Ed25519 => "ed25519",
            GhlScheme::LegacyRsa => "rsa-sha256",
        };
        NewEvent {
            source: Source::Ghl,
            connection_id: self.connection_id,
            external_id: delivery.dedupe_key,
            event_type: self.event_type,
            entity_key: self.entity_key,
            headers: kept_headers(headers, scheme),
            body: delivery.body,
            status: self.disposition.status(),
            note: self.note,
            received_at: Millis::now(),
        }
    }
}

/// The default connection's location is known from configuration; others are looked up
/// in the store and remembered for a while (unknown ones too).
async fn connection_for_location(
    state: &AppState,
    location: &str,
) -> Result<Option<String>, StoreError> {
    if !location.is_empty() && location == state.config.ghl.location_id {
        return Ok(Some(crate::config::DEFAULT_CONNECTION.to_owned()));
    }
    let cache = &state.webhooks.locations;
    if let Some(connection) = cache.get(location) {
        return Ok(connection);
    }
    let connection = state
        .store
        .connection_for_location(location)
        .await?
        .map(|c| c.id);
    cache.insert(location.to_owned(), connection.clone());
    Ok(connection)
}
