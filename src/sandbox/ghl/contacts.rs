//! The fake's contacts: create, get, update, upsert, delete, search and duplicate
//! lookup, with GHL's duplicate rule and its custom-field read/write shapes.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::FakeGhlState;
use super::gate::{CallerExt, Refusal, envelope, json_body, refuse};
use super::state::{Inner, iso_millis};

/// Input fields copied onto the stored contact as they are.
const PLAIN_FIELDS: &[&str] = &[
    "firstName",
    "lastName",
    "name",
    "email",
    "phone",
    "address1",
    "city",
    "state",
    "postalCode",
    "website",
    "timezone",
    "dnd",
    "dndSettings",
    "source",
    "dateOfBirth",
    "country",
    "companyName",
    "assignedTo",
    "gender",
];

pub(super) fn text<'a>(value: &'a Value, field: &str) -> Option<&'a str> {
    value.get(field).and_then(Value::as_str)
}

/// The contact `body` collides with, by email (case-insensitive) or phone.
pub(super) fn find_duplicate(
    inner: &Inner,
    location: &str,
    body: &Value,
) -> Option<(String, &'static str)> {
    let email = text(body, "email").map(str::to_lowercase);
    let phone = text(body, "phone");
    let (id, by) = inner
        .contacts
        .duplicate_of(location, email.as_deref(), phone)?;
    Some((id.to_owned(), by))
}

/// Problems GHL's validation would report for a contact body, as its 422 does.
fn validate(body: &Value) -> Result<(), Refusal> {
    if body
        .get("email")
        .is_some_and(|e| !e.as_str().is_some_and(|e| e.contains('@')))
    {
        return Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "email must be an email",
        ));
    }
    if body.get("tags").is_some_and(|t| !t.is_array()) {
        return Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "tags must be an array",
        ));
    }
    if body.get("customFields").is_some_and(|c| !c.is_array()) {
        let message = "customFields must be an array";
        return Err(refuse(StatusCode::UNPROCESSABLE_ENTITY, message));
    }
    Ok(())
}

/// Applies an input body (write shape) to a stored contact (read shape).
pub(super) fn apply(inner: &mut Inner, contact: &mut Map<String, Value>, body: &Value) {
    for field in PLAIN_FIELDS {
        if let Some(value) = body.get(*field) {
            contact.insert((*field).to_owned(), value.clone());
        }
    }
    if let Some(email) = text(body, "email") {
        contact.insert("emailLowerCase".into(), json!(email.to_lowercase()));
    }
    if let Some(tags) = body.get("tags").and_then(Value::as_array) {
        let tags: Vec<Value> = tags
            .iter()
            .filter_map(Value::as_str)
            .map(|t| json!(t.to_lowercase()))
            .collect();
        contact.insert("tags".into(), Value::Array(tags));
    }
    if let Some(fields) = body.get("customFields").and_then(Value::as_array) {
        merge_custom_fields(inner, contact, fields);
    }
    touch(contact);
}

/// Every write moves `dateUpdated`, as GHL's does (what a sweep for changes filters on).
pub(super) fn touch(contact: &mut Map<String, Value>) {
    contact.insert("dateUpdated".into(), json!(iso_millis(now_ms())));
}

/// Writes come as `{id|key, field_value}`; reads go out as `{id, value}`.
fn merge_custom_fields(inner: &mut Inner, contact: &mut Map<String, Value>, fields: &[Value]) {
    let mut current: Vec<Value> = contact
        .get("customFields")
        .and_then(Value::as_array)
        .cloned()
        .unwrap_or_default();
    for field in fields {
        let id = match (text(field, "id"), text(field, "key")) {
            (Some(id), _) => id.to_owned(),
            (None, Some(key)) => {
                let fresh = format!("cf_{}", key.replace('.', "_"));
                inner
                    .custom_field_ids
                    .entry(key.to_owned())
                    .or_insert(fresh)
                    .clone()
            }
            (None, None) => continue,
        };
        if inner.deleted_field_ids.contains(&id) {
            continue;
        }
        let value = field.get("field_value").cloned().unwrap_or(Value::Null);
        current.retain(|c| text(c, "id") != Some(id.as_str()));
        current.push(json!({ "id": id, "value": value }));
    }
    contact.insert("customFields".into(), Value::Array(current));
}

fn now_ms() -> i64 {
    crate::store::Millis::now().0
}

pub(super) fn new_contact(inner: &mut Inner, location: &str, body: &Value) -> Value {
    let id = inner.next_id("ct");
    let now = iso_millis(now_ms());
    let mut contact = Map::new();
    contact.insert("id".into(), json!(id));
    contact.insert("locationId".into(), json!(location));
    contact.insert("type".into(), json!("lead"));
    contact.insert("tags".into(), json!([]));
    contact.insert("customFields".into(), json!([]));
    contact.insert("dateAdded".into(), json!(now));
    apply(inner, &mut contact, body);
    let contact = Value::Object(contact);
    inner.contacts.insert(id, contact.clone());
    contact
}

pub(super) fn check_location(body: &Value, location: &str) -> Result<(), Refusal> {
    match text(body, "locationId") {
        None => Err(refuse(
            StatusCode::UNPROCESSABLE_ENTITY,
            "locationId should not be empty",
        )),
        Some(l) if l != location => Err(refuse(
            StatusCode::FORBIDDEN,
            "The token does not have access to this location.",
        )),
        Some(_) => Ok(()),
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
    if let Err(r) = check_location(&body, &caller.location_id).and_then(|()| validate(&body)) {
        return r.into_response();
    }
    let mut inner = s.lock();
    let duplicate = (!inner.allow_duplicate_contacts)
        .then(|| find_duplicate(&inner, &caller.location_id, &body))
        .flatten();
    if let Some((id, field)) = duplicate {
        let name = inner
            .contacts
            .get(&id)
            .and_then(|c| text(c, "name"))
            .map(str::to_owned);
        let body = json!({
            "statusCode": 400,
            "message": "This location does not allow duplicated contacts.",
            "meta": { "contactName": name, "contactId": id, "matchingField": field },
        });
        return (StatusCode::BAD_REQUEST, Json(body)).into_response();
    }
    let contact = new_contact(&mut inner, &caller.location_id, &body);
    (StatusCode::CREATED, Json(json!({ "contact": contact }))).into_response()
}

/// The contact `id` if the caller's location owns it.
pub fn owned(inner: &Inner, location: &str, id: &str) -> Result<Value, Refusal> {
    match inner.contacts.get(id) {
        Some(c) if text(c, "locationId") == Some(location) => Ok(c.clone()),
        _ => Err(refuse(StatusCode::NOT_FOUND, "Contact not found")),
    }
}

pub async fn get(
    State(s): State<Arc<FakeGhlState>>,
    caller: CallerExt,
    Path(id): Path<String>,
) -> Response {
    match owned(&s.lock(), &caller.location_id, &id) {
        Ok(contact) => Json(json!({ "contact": contact })).into_response(),
        Err(r) => r.into_response(),
    }
}

pub async fn update(
    State(s): State<Arc<FakeGhlState>>,
    caller: CallerExt,
    Path(id): Path<String>,
    bytes: Bytes,
) -> Response {
    let body = match json_body(&bytes).and_then(|b| validate(&b).map(|()| b)) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let mut inner = s.lock();
    let Ok(Value::Object(mut contact)) = owned(&inner, &caller.location_id, &id) else {
        return envelope(StatusCode::NOT_FOUND, "Contact not found");
    };
    apply(&mut inner, &mut contact, &body);
    let contact = Value::Object(contact);
    inner.contacts.insert(id, contact.clone());
    Json(json!({ "succeded": true, "contact": contact })).into_response()
}

pub async fn upsert(
    State(s): State<Arc<FakeGhlState>>,
    caller: CallerExt,
    bytes: Bytes,
) -> Response {
    let body = match json_body(&bytes) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    if let Err(r) = check_location(&body, &caller.location_id).and_then(|()| validate(&body)) {
        return r.into_response();
    }
    let mut inner = s.lock();
    let trace_id = uuid::Uuid::new_v4().to_string();
    let found = find_duplicate(&inner, &caller.location_id, &body).map(|(id, _)| id);
    let Some(id) = found else {
        let contact = new_contact(&mut inner, &caller.location_id, &body);
        return Json(json!({ "new": true, "contact": contact, "traceId": trace_id }))
            .into_response();
    };
    let Some(Value::Object(mut contact)) = inner.contacts.get(&id).cloned() else {
        return envelope(StatusCode::NOT_FOUND, "Contact not found");
    };
    apply(&mut inner, &mut contact, &body);
    let contact = Value::Object(contact);
    inner.contacts.insert(id, contact.clone());
    Json(json!({ "new": false, "contact": contact, "traceId": trace_id })).into_response()
}

pub async fn delete(
    State(s): State<Arc<FakeGhlState>>,
    caller: CallerExt,
    Path(id): Path<String>,
) -> Response {
    let mut inner = s.lock();
    if let Err(r) = owned(&inner, &caller.location_id, &id) {
        return r.into_response();
    }
    inner.contacts.remove(&id);
    inner
        .tasks
        .retain(|_, t| text(t, "contactId") != Some(id.as_str()));
    inner
        .notes
        .retain(|_, n| text(n, "contactId") != Some(id.as_str()));
    Json(json!({ "succeded": true })).into_response()
}
