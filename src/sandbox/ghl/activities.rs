//! The fake's per-contact records: tasks, notes, tags, campaign and workflow
//! membership, with the spec's required fields and success codes.

use std::sync::Arc;

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde_json::{Map, Value, json};

use super::FakeGhlState;
use super::contacts::owned;
use super::gate::{CallerExt, Refusal, envelope, json_body, refuse};
use super::state::iso_millis;

/// Which per-contact collection a handler works on.
#[derive(Clone, Copy)]
pub enum Kind {
    Task,
    Note,
}

impl Kind {
    fn singular(self) -> &'static str {
        match self {
            Self::Task => "task",
            Self::Note => "note",
        }
    }

    /// Fields the create body must carry, as the spec's `required` lists say.
    fn required(self) -> &'static [&'static str] {
        match self {
            Self::Task => &["title", "dueDate", "completed"],
            Self::Note => &["body"],
        }
    }

    fn fields(self) -> &'static [&'static str] {
        match self {
            Self::Task => &["title", "body", "dueDate", "completed", "assignedTo"],
            Self::Note => &["body", "userId", "title", "color", "pinned"],
        }
    }
}

fn collection(
    inner: &mut super::state::Inner,
    kind: Kind,
) -> &mut std::collections::BTreeMap<String, Value> {
    match kind {
        Kind::Task => &mut inner.tasks,
        Kind::Note => &mut inner.notes,
    }
}

fn copy_fields(kind: Kind, from: &Value, to: &mut Map<String, Value>) {
    for field in kind.fields() {
        if let Some(v) = from.get(*field) {
            to.insert((*field).to_owned(), v.clone());
        }
    }
}

fn body_or_422(bytes: &Bytes) -> Result<Value, Refusal> {
    json_body(bytes)
}

pub async fn create(
    kind: Kind,
    s: Arc<FakeGhlState>,
    caller: CallerExt,
    contact_id: String,
    bytes: Bytes,
) -> Response {
    let body = match body_or_422(&bytes) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    if let Some(missing) = kind.required().iter().find(|f| body.get(**f).is_none()) {
        return envelope(
            StatusCode::UNPROCESSABLE_ENTITY,
            &format!("{missing} should not be empty"),
        );
    }
    let mut inner = s.lock();
    if let Err(r) = owned(&inner, &caller.location_id, &contact_id) {
        return r.into_response();
    }
    let id = inner.next_id(if matches!(kind, Kind::Task) {
        "tk"
    } else {
        "nt"
    });
    let mut record = Map::new();
    record.insert("id".into(), json!(id));
    record.insert("contactId".into(), json!(contact_id));
    if matches!(kind, Kind::Note) {
        record.insert(
            "dateAdded".into(),
            json!(iso_millis(crate::store::Millis::now().0)),
        );
    }
    copy_fields(kind, &body, &mut record);
    let record = Value::Object(record);
    collection(&mut inner, kind).insert(id, record.clone());
    (
        StatusCode::CREATED,
        Json(json!({ kind.singular(): record })),
    )
        .into_response()
}

pub async fn list(
    kind: Kind,
    s: Arc<FakeGhlState>,
    caller: CallerExt,
    contact_id: String,
) -> Response {
    let mut inner = s.lock();
    if let Err(r) = owned(&inner, &caller.location_id, &contact_id) {
        return r.into_response();
    }
    let records: Vec<Value> = collection(&mut inner, kind)
        .values()
        .filter(|r| r.get("contactId").and_then(Value::as_str) == Some(contact_id.as_str()))
        .cloned()
        .collect();
    let plural = format!("{}s", kind.singular());
    Json(json!({ plural: records })).into_response()
}

/// The record `id` of `contact_id`, or GHL's 404 envelope.
fn find(
    inner: &mut super::state::Inner,
    kind: Kind,
    location: &str,
    contact_id: &str,
    id: &str,
) -> Result<Value, Refusal> {
    owned(inner, location, contact_id)?;
    match collection(inner, kind).get(id) {
        Some(r) if r.get("contactId").and_then(Value::as_str) == Some(contact_id) => Ok(r.clone()),
        _ => Err(refuse(
            StatusCode::NOT_FOUND,
            &format!("{} not found", kind.singular()),
        )),
    }
}

pub async fn get(
    kind: Kind,
    s: Arc<FakeGhlState>,
    caller: CallerExt,
    contact_id: String,
    id: String,
) -> Response {
    match find(&mut s.lock(), kind, &caller.location_id, &contact_id, &id) {
        Ok(record) => Json(json!({ kind.singular(): record })).into_response(),
        Err(r) => r.into_response(),
    }
}

pub async fn update(
    kind: Kind,
    s: Arc<FakeGhlState>,
    caller: CallerExt,
    ids: (String, String),
    bytes: Bytes,
) -> Response {
    let body = match body_or_422(&bytes) {
        Ok(b) => b,
        Err(r) => return r.into_response(),
    };
    let (contact_id, id) = ids;
    let mut inner = s.lock();
    let mut record = match find(&mut inner, kind, &caller.location_id, &contact_id, &id) {
        Ok(Value::Object(record)) => record,
        Ok(_) => return envelope(StatusCode::NOT_FOUND, "not found"),
        Err(r) => return r.into_response(),
    };
    copy_fields(kind, &body, &mut record);
    let record = Value::Object(record);
    collection(&mut inner, kind).insert(id, record.clone());
    Json(json!({ kind.singular(): record })).into_response()
}

pub async fn delete(
    kind: Kind,
    s: Arc<FakeGhlState>,
    caller: CallerExt,
    contact_id: String,
    id: String,
) -> Response {
    let mut inner = s.lock();
    if let Err(r) = find(&mut inner, kind, &caller.location_id, &contact_id, &id) {
        return r.into_response();
    }
    collection(&mut inner, kind).remove(&id);
    Json(json!({ "succeded": true })).into_response()
}

/// `PUT /contacts/{contactId}/tasks/{taskId}/completed` with `{completed}` required.
pub async fn complete_task(
    State(s): State<Arc<FakeGhlState>>,
    caller: CallerExt,
    Path((contact_id, id)): Path<(String, String)>,
    bytes: Bytes,
) -> Response {
    match json_body(&bytes) {
        Ok(body) if body.get("completed").is_some_and(Value::is_boolean) => {
            update(Kind::Task, s, caller, (contact_id, id), bytes).await
        }
        Ok(_) => envelope(
            StatusCode::UNPROCESSABLE_ENTITY,
            "completed must be a boolean value",
        ),
        Err(r) => r.into_response(),
    }
}

fn tag_list(body: &Value) -> Option<Vec<String>> {
    let tags = body.get("tags")?.as_array()?;
    tags.iter()
        .map(|t| t.as_str().map(str::to_lowercase))
        .collect()
}

/// `POST` (201) adds and `DELETE` (200) removes tags; both answer `{tags}`.
pub async fn change_tags(
    add: bool,
    s: Arc<FakeGhlState>,
    caller: CallerExt,
    contact_id: String,
    bytes: Bytes,
) -> Response {
    let Some(tags) = json_body(&bytes).ok().as_ref().and_then(tag_list) else {
        return envelope(StatusCode::UNPROCESSABLE_ENTITY, "tags must be an array");
    };
    let mut inner = s.lock();
    let mut contact = match owned(&inner, &caller.location_id, &contact_id) {
        Ok(c) => c,
        Err(r) => return r.into_response(),
    };
    let mut current: Vec<String> = contact["tags"]
        .as_array()
        .map(|a| {
            a.iter()
                .filter_map(|t| t.as_str().map(str::to_owned))
                .collect()
        })
        .unwrap_or_default();
    if add {
        current.extend(
            tags.iter()
                .filter(|t| !current.contains(t))
                .cloned()
                .collect::<Vec<_>>(),
        );
    } else {
        current.retain(|t| !tags.contains(t));
    }
    contact["tags"] = json!(current);
    if let Value::Object(fields) = &mut contact {
        super::contacts::touch(fields);
    }
    inner.contacts.insert(contact_id, contact);
    let status = if add {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(json!({ "tags": current }))).into_response()
}

/// Campaign (POST 201) and workflow (POST 200) membership, and their removal (200).
pub async fn membership(
    workflow: bool,
    add: bool,
    s: Arc<FakeGhlState>,
    caller: CallerExt,
    (contact_id, target): (String, String),
) -> Response {
    let mut inner = s.lock();
    if let Err(r) = owned(&inner, &caller.location_id, &contact_id) {
        return r.into_response();
    }
    let set = if workflow {
        &mut inner.workflows
    } else {
        &mut inner.campaigns
    };
    if add {
        set.insert((contact_id, target));
    } else {
        set.remove(&(contact_id, target));
    }
    let status = if add && !workflow {
        StatusCode::CREATED
    } else {
        StatusCode::OK
    };
    (status, Json(json!({ "succeded": true }))).into_response()
}
