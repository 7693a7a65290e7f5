//! The fake's contact lookups: search with filters, a sort and `searchAfter` paging,
//! duplicate lookup by email or phone, and the location's custom fields (listed and created).

use std::cmp::Ordering;
use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, Query, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;
use serde_json::{Value, json};

use super::FakeGhlState;
use super::contacts::{check_location, find_duplicate, text};
use super::gate::{CallerExt, envelope, json_body};
use super::state::Inner;

/// `POST /contacts/search`: `locationId` and `pageLimit` required; `filters` with `eq`
/// and `range`, an optional one-key `sort`; paging by `searchAfter`, which each contact
/// carries: `[sort value, id]` when sorted, else `[dateAdded, id]` (ids ascending).
pub async fn search(
    State(s): State<Arc<FakeGhlState>>,
    caller: CallerExt,
    bytes: Bytes,
) -> Response {
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
    let order = Order::of(&body);
    let after = body.get("searchAfter").and_then(Value::as_array).cloned();
    let query = text(&body, "query").map(str::to_lowercase);
    let inner = s.lock();
    let mut matching: Vec<&Value> = inner
        .contacts
        .values()
        .filter(|c| text(c, "locationId") == Some(caller.location_id.as_str()))
        .filter(|c| query.as_deref().is_none_or(|q| matches_query(c, q)))
        .filter(|c| matches_filters(c, body.get("filters")))
        .collect();
    // A stable sort: ties keep id order, as the cursor's id part expects.
    matching.sort_by_key(|c| order.key(c));
    let total = matching.len();
    let page: Vec<Value> = matching
        .into_iter()
        .filter(|c| after.as_deref().is_none_or(|a| order.is_after(c, a)))
        .take(usize::try_from(limit).unwrap_or(usize::MAX))
        .map(|c| order.with_search_after(c))
        .collect();
    Json(json!({ "contacts": page, "total": total })).into_response()
}

fn matches_query(contact: &Value, query: &str) -> bool {
    ["name", "firstName", "lastName", "email", "phone"]
        .iter()
        .filter_map(|f| text(contact, f))
        .any(|v| v.to_lowercase().contains(query))
}

/// Supports `eq` (lookups by a field) and `range` (`gt`/`gte`/`lt`/`lte`, dates compared
/// as instants); other operators match everything.
fn matches_filters(contact: &Value, filters: Option<&Value>) -> bool {
    let Some(filters) = filters.and_then(Value::as_array) else {
        return true;
    };
    filters
        .iter()
        .all(|f| match (text(f, "field"), text(f, "operator")) {
            (Some(field), Some("eq")) => contact.get(field) == f.get("value"),
            (Some(field), Some("range")) => in_range(contact.get(field), f.get("value")),
            _ => true,
        })
}

fn in_range(value: Option<&Value>, bounds: Option<&Value>) -> bool {
    let (Some(value), Some(bounds)) = (value, bounds.and_then(Value::as_object)) else {
        return false;
    };
    bounds.iter().all(|(op, bound)| {
        let ordering = compare(value, bound);
        match op.as_str() {
            "gt" => ordering.is_gt(),
            "gte" => ordering.is_ge(),
            "lt" => ordering.is_lt(),
            "lte" => ordering.is_le(),
            _ => true,
        }
    })
}

/// Dates compare as instants whatever their notation, numbers as numbers, the rest as text.
fn compare(a: &Value, b: &Value) -> Ordering {
    let instant = |v: &Value| v.as_str()?.parse::<jiff::Timestamp>().ok();
    if let (Some(a), Some(b)) = (instant(a), instant(b)) {
        return a.cmp(&b);
    }
    if let (Some(a), Some(b)) = (a.as_f64(), b.as_f64()) {
        return a.partial_cmp(&b).unwrap_or(Ordering::Equal);
    }
    a.to_string().cmp(&b.to_string())
}

/// The requested order: by one field (then id), or by id alone.
struct Order {
    field: Option<String>,
    descending: bool,
}

impl Order {
    fn of(body: &Value) -> Self {
        let first = body
            .get("sort")
            .and_then(Value::as_array)
            .and_then(|s| s.first());
        Self {
            field: first.and_then(|s| text(s, "field")).map(str::to_owned),
            descending: first.and_then(|s| text(s, "direction")) == Some("desc"),
        }
    }

    fn key(&self, contact: &Value) -> SortKey {
        let value = self
            .field
            .as_deref()
            .and_then(|f| contact.get(f))
            .cloned()
            .unwrap_or(Value::Null);
        let id = text(contact, "id").unwrap_or_default().to_owned();
        SortKey {
            value,
            descending: self.descending,
            id,
        }
    }

    fn is_after(&self, contact: &Value, cursor: &[Value]) -> bool {
        let id = cursor.get(1).and_then(Value::as_str).unwrap_or_default();
        let here = self.key(contact);
        if self.field.is_none() {
            return here.id.as_str() > id;
        }
        let there = SortKey {
            value: cursor.first().cloned().unwrap_or(Value::Null),
            descending: self.descending,
            id: id.to_owned(),
        };
        here > there
    }

    fn with_search_after(&self, contact: &Value) -> Value {
        let mut contact = contact.clone();
        let id = text(&contact, "id").unwrap_or_default().to_owned();
        let first = match &self.field {
            Some(field) => contact.get(field).cloned().unwrap_or(Value::Null),
            None => json!(text(&contact, "dateAdded").unwrap_or_default()),
        };
        contact["searchAfter"] = json!([first, id]);
        contact
    }
}

/// A contact's place in the order: its sort value (reversed when descending), then its id.
struct SortKey {
    value: Value,
    descending: bool,
    id: String,
}

impl Ord for SortKey {
    fn cmp(&self, other: &Self) -> Ordering {
        let by_value = compare(&self.value, &other.value);
        let by_value = if self.descending {
            by_value.reverse()
        } else {
            by_value
        };
        by_value.then_with(|| self.id.cmp(&other.id))
    }
}

impl PartialOrd for SortKey {
    fn partial_cmp(&self, other: &Self) -> Option<Ordering> {
        Some(self.cmp(other))
    }
}

impl PartialEq for SortKey {
    fn eq(&self, other: &Self) -> bool {
        self.cmp(other).is_eq()
    }
}

impl Eq for SortKey {}

#[derive(Deserialize)]
pub struct DuplicateQuery {
    #[serde(rename = "locationId")]
    location_id: String,
    email: Option<String>,
    number: Option<String>,
}

/// `GET /contacts/search/duplicate`: `{contact}` or `{contact: null}`.
pub async fn duplicate(
    State(s): State<Arc<FakeGhlState>>,
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
    State(s): State<Arc<FakeGhlState>>,
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
    State(s): State<Arc<FakeGhlState>>,
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
