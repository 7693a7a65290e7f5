//! The fake's appointments: the calendars API (`Version: 2021-04-15`) and a contact's
//! appointment list, answering the spec's flat `AppointmentSchemaResponse` on writes.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Value, json};

use super::FakeGhlState;
use super::contacts::owned;
use super::gate::{CallerExt, Refusal, envelope, json_body, refuse};

const FIELDS: &[&str] = &[
    "calendarId",
    "contactId",
    "startTime",
    "endTime",
    "title",
    "meetingLocationType",
    "appointmentStatus",
    "assignedUserId",
    "address",
    "description",
    "rrule",
];

fn merge(event: &mut serde_json::Map<String, Value>, body: &Value) {
    for field in FIELDS {
        if let Some(v) = body.get(*field) {
            event.insert((*field).to_owned(), v.clone());
        }
    }
}

pub async fn create(
    State(s): State<Arc<FakeGhlState>>,
    caller: CallerExt,
    bytes: Bytes,
) -> Response {
    let body = match json_body(&bytes) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let required = ["calendarId", "locationId", "contactId", "startTime"];
    if let Some(missing) = required.iter().find(|f| body.get(**f).is_none()) {
        return envelope(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("{missing} should not be empty"),
        );
    }
    let contact_id = body["contactId"].as_str().unwrap_or_default().to_owned();
    let mut inner = s.lock();
    if let Err(r) = owned(&inner, &caller.location_id, &contact_id) {
        return r.into_response();
    }
    let id = inner.next_id("ev");
    let mut event = serde_json::Map::new();
    event.insert("id".into(), json!(id));
    event.insert("locationId".into(), json!(caller.location_id));
    event.insert("appointmentStatus".into(), json!("confirmed"));
    event.insert("isRecurring".into(), json!(false));
    merge(&mut event, &body);
    let event = Value::Object(event);
    inner.events.insert(id, event.clone());
    Json(event).into_response()
}

fn find(inner: &super::state::Inner, location: &str, id: &str) -> Result<Value, Refusal> {
    match inner.events.get(id) {
        Some(e) if e["locationId"].as_str() == Some(location) => Ok(e.clone()),
        _ => Err(refuse(StatusCode::NOT_FOUND, "Appointment not found")),
    }
}

pub async fn get(
    State(s): State<Arc<FakeGhlState>>,
    caller: CallerExt,
    Path(id): Path<String>,
) -> Response {
    match find(&s.lock(), &caller.location_id, &id) {
        Ok(event) => Json(json!({ "event": event })).into_response(),
        Err(r) => r.into_response(),
    }
}

pub async fn update(
    State(s): State<Arc<FakeGhlState>>,
    caller: CallerExt,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let body = match json_body(&bytes) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let mut inner = s.lock();
    let mut event = match find(&inner, &caller.location_id, &id) {
        Ok(Value::Object(e)) => e,
        Ok(_) => return envelope(StatusCode::NOT_FOUND, "Appointment not found"),
        Err(r) => return r.into_response(),
    };
    merge(&mut event, &body);
    let event = Value::Object(event);
    inner.events.insert(id, event.clone());
    Json(event).into_response()
}

/// `GET /contacts/{contactId}/appointments` → `{events}`.
pub async fn for_contact(
    State(s): State<Arc<FakeGhlState>>,
    caller: CallerExt,
    Path(contact_id): Path<String>,
) -> Response {
    let inner = s.lock();
    if let Err(r) = owned(&inner, &caller.location_id, &contact_id) {
        return r.into_response();
    }
    let events: Vec<Value> = inner
        .events
        .values()
        .filter(|e| e["contactId"].as_str() == Some(contact_id.as_str()))
        .cloned()
        .collect();
    Json(json!({ "events": events })).into_response()
}
