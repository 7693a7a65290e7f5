//! Mapping tools over HTTP: `POST /api/v1/mapping/validate` checks a mapping document (the
//! TOML text as the body) and lists its problems by line; `POST
//! /api/v1/connections/{id}/preview` plans a sample event through the connection's
//! mapping. Neither changes anything or sends a request to a platform.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Path, State};
use axum::http::{HeaderMap, header};
use serde::Serialize;

use crate::http::ApiError;
use crate::http::AppState;
use crate::mapping::Plan;
use crate::store::Connection;
use crate::verify::LoadedMapping;
use crate::verify::preview::plan_event;

/// The name problems are reported under: the document has no file name.
const DOCUMENT: &str = "mapping";

#[derive(Debug, Serialize)]
pub struct Validation {
    pub valid: bool,
    /// Field pairs the mapping syncs, when it is valid.
    pub field_pairs: Option<usize>,
    pub problems: Vec<ProblemView>,
}

#[derive(Debug, Serialize)]
pub struct ProblemView {
    pub line: usize,
    pub key: String,
    pub message: String,
}

pub async fn validate(headers: HeaderMap, body: Bytes) -> Result<Json<Validation>, ApiError> {
    // No body at all is a request without a document; an empty document (a body of
    // no bytes, with its type) is a document with problems, answered as such.
    if body.is_empty() && !headers.contains_key(header::CONTENT_TYPE) {
        return Err(ApiError::BadRequest(
            "send the mapping document (TOML) as the body".into(),
        ));
    }
    let text = std::str::from_utf8(&body)
        .map_err(|_| ApiError::BadRequest("the mapping must be UTF-8 TOML text".into()))?;
    Ok(Json(validation(DOCUMENT, text)))
}

/// Validates the mapping document `text` (named `name` in its problems): the valid
/// flag, the field pairs it syncs, or its problems by line.
pub(crate) fn validation(name: &str, text: &str) -> Validation {
    match crate::mapping::load(name, text) {
        Ok(m) => Validation {
            valid: true,
            field_pairs: Some(m.file.fields.len()),
            problems: Vec::new(),
        },
        Err(errors) => Validation {
            valid: false,
            field_pairs: None,
            problems: errors
                .0
                .into_iter()
                .map(|p| ProblemView {
                    line: p.line,
                    key: p.key,
                    message: p.message,
                })
                .collect(),
        },
    }
}

/// What the mapping would do with a sample, or why the sample was not understood (a
/// sample is the caller's to fix, so that is an answer, not an error, as in `validate`).
#[derive(Debug, Serialize)]
pub struct Preview {
    pub understood: bool,
    pub reason: Option<String>,
    pub plan: Option<Plan>,
}

pub async fn preview(
    State(state): State<AppState>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<Preview>, ApiError> {
    let connection = super::connections::live(&state, &id).await?;
    if !super::body::is_object(&body) {
        return Err(ApiError::BadRequest(
            "send one sample event (a JSON object) as the body".into(),
        ));
    }
    let path = mapping_path(&state, &connection);
    let loaded = LoadedMapping::read(path).map_err(|why| {
        ApiError::Conflict(format!("the connection's mapping does not load: {why}"))
    })?;
    Ok(Json(preview_of(&loaded, &body)))
}

/// The mapping file `connection` syncs with: its own, else the configured one (empty
/// meaning the shipped example).
pub(crate) fn mapping_path<'a>(state: &'a AppState, connection: &'a Connection) -> &'a str {
    connection
        .mapping_path
        .as_deref()
        .unwrap_or(&state.config.mapping.file)
}

/// What `loaded` plans for the sample event `body`, or why the sample was not understood.
pub(crate) fn preview_of(loaded: &LoadedMapping, body: &[u8]) -> Preview {
    match plan_event(&loaded.mapping, body, jiff::Timestamp::now()) {
        Ok(plan) => Preview {
            understood: true,
            reason: None,
            plan: Some(plan),
        },
        Err(reason) => Preview {
            understood: false,
            reason: Some(reason),
            plan: None,
        },
    }
}
