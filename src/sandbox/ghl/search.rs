//! The fake's contact lookups: search with `searchAfter` paging, duplicate lookup by
//! email or phone, and the location's custom fields (listed and created).

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::Shared;
use super::contacts::{check_location, find_duplicate, text};
use super::gate::{CallerExt, envelope, json_body};
use super::state::Inner;

/// `POST /contacts/search`: `locationId` and `pageLimit` required; paging by
/// `searchAfter` = `[dateAdded ms, id]` as GHL returns on each contact.
pub async fn search(State(s): State<Arc<Shared>>, caller: CallerExt, bytes: Bytes) -> Response {
    let body = match json_body(&bytes) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    if let Err(r) = check_location(&body, &caller.location_id) {
        return r.into_response();
    }
    let Some(limit) = body
        .get("pageLimit")
        .and_then(Value::as_u64)
        .filter(|n| (1..=500).contains(n))
    else {
        let message = "pageLimit must be a number between 1 and 500";
        return envelope(StatusCode::UNPROCESSABLE_ENTITY, message);
    };
    let after = body
        .get("searchAfter")
        .and_then(Value::as_array)
        .and_then(|a| a.get(1))
        .and_then(Value::as_str)
        .map(str::to_owned);
    let query = text(&body, "query").map(str::to_lowercase);
    let inner = s.lock();
    let matching: Vec<&Value> = inner
        .contacts
        .values()
        .filter(|c| text(c, "locationId") == Some(caller.location_id.as_str()))
        .filter(|c| query.as_deref().is_none_or(|q| matches_query(c, q)))
        .filter(|c| matches_filters(c, body.get("filters")))
        .collect();
    let total = matching.len();
    let page: Vec<Value> = matching
        .into_iter()
        .filter(|c| {
            after
                .as_deref()
                .is_none_or(|a| text(c, "id").is_some_and(|id| id > a))
        })
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(with_search_after)
        .collect();
    Json(json!({ "contacts": page, "total": total })).into_response()
}

fn matches_query(contact: &Value, query: &str) -> bool {
    ["name", "firstName", "lastName", "email", "phone"]
        .iter()
        .filter_map(|f| text(contact, f))
        .any(|v| v.to_lowercase().contains(query))
}

/// Supports the `eq` operator, which is what lookups by a field need.
fn matches_filters(contact: &Value, filters: Option<&Value>) -> bool {
    let Some(filters) = filters.and_then(Value::as_array) else {
        return true;
    };
    filters
        .iter()
        .all(|f| match (text(f, "field"), text(f, "operator")) {
            (Some(field), Some("eq")) => contact.get(field) == f.get("value"),
            _ => true,
        })
}

fn with_search_after(contact: &Value) -> Value {
    let mut contact = contact.clone();
    let id = text(&contact, "id").unwrap_or_default().to_owned();
    let added = text(&contact, "dateAdded").unwrap_or_default().to_owned();
    contact["searchAfter"] = json!([added, id]);
    contact
}

#[derive(Deserialize)]
pub struct DuplicateQuery {
    #[serde(rename = "locationId")]
    location_id: String,
    email: Option<String>,
    number: Option<String>,
}

/// `GET /contacts/search/duplicate`: `{contact}` or `{contact: null}`.
pub async fn duplicate(
    State(s): State<Arc<Shared>>,
    caller: CallerExt,
    Query(q): Query<DuplicateQuery>,
) -> Response {
    if q.location_id != caller.location_id {
        return envelope(
            StatusCode::FORBIDDEN,
            "The token does not have access to this location.",
        );
    }
    let probe = json!({ "email": q.email, "phone": q.number });
    let inner = s.lock();
    let contact = find_duplicate(&inner, &q.location_id, &probe)
        .and_then(|(id, _)| inner.contacts.get(&id).cloned());
    Json(json!({ "contact": contact })).into_response()
}

/// `GET /locations/{locationId}/customFields`: the fields written so far, by key.
pub async fn custom_fields(
    State(s): State<Arc<Shared>>,
    caller: CallerExt,
    Path(location): Path<String>,
) -> Response {
    if location != caller.location_id {
        let message = "The token does not have access to this location.";
        return envelope(StatusCode::FORBIDDEN, message);
    }
    let inner = s.lock();
    let fields: Vec<Value> = inner
        .custom_field_ids
        .iter()
        .map(|(key, id)| field_json(&inner, key, id))
        .collect();
    Json(json!({ "customFields": fields })).into_response()
}

/// A field's name and data type: as created, else (defined by a write by key) its key and TEXT.
pub(super) fn field_meta(inner: &Inner, key: &str) -> (String, String) {
    inner
        .custom_field_defs
        .get(key)
        .cloned()
        .unwrap_or_else(|| (key.to_owned(), "TEXT".to_owned()))
}

fn field_json(inner: &Inner, key: &str, id: &str) -> Value {
    let (name, data_type) = field_meta(inner, key);
    json!({ "id": id, "name": name, "fieldKey": key, "dataType": data_type, "model": "contact" })
}

/// `POST /locations/{locationId}/customFields`: GHL derives the key from the name
/// (`Job Title` → `contact.job_title`) and refuses a name already taken.
pub async fn create_custom_field(
    State(s): State<Arc<Shared>>,
    caller: CallerExt,
    Path(location): Path<String>,
    bytes: Bytes,
) -> Response {
    if location != caller.location_id {
        let message = "The token does not have access to this location.";
        return envelope(StatusCode::FORBIDDEN, message);
    }
    let body = match json_body(&bytes) {
        Ok(body) => body,
        Err(refusal) => return refusal.into_response(),
    };
    let text = |k: &str| {
        body.get(k)
            .and_then(Value::as_str)
            .unwrap_or("")
            .trim()
            .to_owned()
    };
    let (name, data_type) = (text("name"), text("dataType"));
    if name.is_empty() || data_type.is_empty() {
        let message = "name and dataType should not be empty";
        return envelope(StatusCode::UNPROCESSABLE_ENTITY, message);
    }
    let key = format!("contact.{}", name.to_lowercase().replace([' ', '-'], "_"));
    let mut inner = s.lock();
    if inner.custom_field_ids.contains_key(&key) {
        let message = format!("A custom field with the key {key} already exists");
        return envelope(StatusCode::BAD_REQUEST, &message);
    }
    let id = inner.next_id("cf");
    inner.custom_field_ids.insert(key.clone(), id.clone());
    inner
        .custom_field_defs
        .insert(key.clone(), (name, data_type));
    let field = field_json(&inner, &key, &id);
    (StatusCode::CREATED, Json(json!({ "customField": field }))).into_response()
}
