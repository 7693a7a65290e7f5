//! `/api/v1/connections`: list, create, read, change, pause, resume and remove the
//! connections, through the same `Connections` operations the `connections` command
//! runs. Tokens go in and never come out; every change is audited with the names of the
//! fields it set, never their values.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::{StatusCode, header};
use axum::response::{IntoResponse, Response};

use super::auth::Caller;
use super::body::json;
use super::operations;
use super::store_failed;
use crate::admin::Page;
use crate::connections::{ConnectionError, ConnectionInput, ConnectionPatch, ConnectionView};
use crate::http::ApiError;
use crate::http::AppState;
use crate::store::{Connection, REMOVED_REASON, StoreError};

/// The answer for a connection operation's failure.
pub(crate) fn refused(error: ConnectionError) -> ApiError {
    match error {
        ConnectionError::NotFound(what) => ApiError::NotFound(format!("no {what}")),
        ConnectionError::Conflict(what) | ConnectionError::Unusable(what) => {
            ApiError::Conflict(what)
        }
        ConnectionError::Invalid(why) => ApiError::Unprocessable(why),
        error @ ConnectionError::ReadOnly => ApiError::Conflict(error.to_string()),
        // The service was started without a key: tokens cannot be stored until it has
        // one, which is the operator's to fix, not a failure of the service.
        ConnectionError::Store(error @ StoreError::EncryptionKeyMissing) => {
            ApiError::Conflict(error.to_string())
        }
        ConnectionError::Store(error) => store_failed(error),
    }
}

/// To the API a connection an operator removed is gone (404), although its row stays so
/// its id is never reused by accident; the `connections` command still shows it.
pub(crate) async fn not_removed(state: &AppState, id: &str) -> Result<(), ApiError> {
    live(state, id)
        .await
        .map(|_| ())
        .or_else(|error| match error {
            // `default` may exist only in the configuration.
            ApiError::NotFound(_) if id == crate::config::DEFAULT_CONNECTION => Ok(()),
            other => Err(other),
        })
}

/// The stored connection `id`; 404 when there is none or it was removed.
pub(crate) async fn live(state: &AppState, id: &str) -> Result<Connection, ApiError> {
    match state.store.connection(id).await.map_err(store_failed)? {
        Some(connection) if !connection.is_removed() => Ok(connection),
        _ => Err(ApiError::NotFound(format!("no connection {id}"))),
    }
}

/// `GET /api/v1/connections`: every connection, `default` among them, removed ones left
/// out. Connections are few (one per location), so the listing is one page.
pub async fn list(State(state): State<AppState>) -> Result<Json<Page<ConnectionView>>, ApiError> {
    let mut items = state.connections().list().await.map_err(refused)?;
    items.retain(|view| !is_removed(view));
    Ok(Json(Page { items, next: None }))
}

/// Whether `view` is of a connection an operator removed (listings leave those out).
pub(crate) fn is_removed(view: &ConnectionView) -> bool {
    view.status == "disconnected" && view.status_reason.as_deref() == Some(REMOVED_REASON)
}

/// `POST /api/v1/connections`: 201 with the new connection and its `Location`.
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    body: Bytes,
) -> Result<Response, ApiError> {
    let input: ConnectionInput = json(&body)?;
    let fields = field_names(&body);
    let view = operations::create(&state, &caller, input, fields).await?;
    let location = format!("/api/v1/connections/{}", view.id);
    Ok((
        StatusCode::CREATED,
        [(header::LOCATION, location)],
        Json(view),
    )
        .into_response())
}

/// `GET /api/v1/connections/{id}`.
pub async fn show(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    not_removed(&state, &id).await?;
    Ok(Json(state.connections().get(&id).await.map_err(refused)?))
}

/// `PATCH /api/v1/connections/{id}`: absent fields stay; an empty string clears.
pub async fn update(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Json<ConnectionView>, ApiError> {
    not_removed(&state, &id).await?;
    let patch: ConnectionPatch = json(&body)?;
    let fields = field_names(&body);
    let view = operations::update(&state, &caller, &id, patch, fields).await?;
    Ok(Json(view))
}

/// `DELETE /api/v1/connections/{id}`: its tokens and secrets are erased; its stored
/// events stay readable.
pub async fn remove(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    not_removed(&state, &id).await?;
    Ok(Json(operations::remove(&state, &caller, &id).await?))
}

/// `POST /api/v1/connections/{id}/pause`: outbound work waits; inbound events are
/// stored as usual.
pub async fn pause(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    not_removed(&state, &id).await?;
    Ok(Json(operations::pause(&state, &caller, &id).await?))
}

/// `POST /api/v1/connections/{id}/resume`: the events that waited are due at once.
pub async fn resume(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<ConnectionView>, ApiError> {
    not_removed(&state, &id).await?;
    Ok(Json(operations::resume(&state, &caller, &id).await?))
}

/// The top-level field names of a JSON object body that already parsed, for the audit
/// entry: what was set, never to what.
fn field_names(body: &Bytes) -> Vec<String> {
    serde_json::from_slice::<serde_json::Map<String, serde_json::Value>>(body)
        .map(|object| object.keys().cloned().collect())
        .unwrap_or_default()
}
