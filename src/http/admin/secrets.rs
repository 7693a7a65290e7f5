//! `/api/v1/connections/{id}/tovuti-secrets`: make a Tovuti webhook secret (shown once,
//! older ones kept verifying for an overlap), list them by fingerprint, revoke one.

use axum::Json;
use axum::body::Bytes;
use axum::extract::{Extension, Path, State};
use axum::http::StatusCode;
use axum::response::{IntoResponse, Response};
use serde::Deserialize;

use super::auth::Caller;
use super::body::json;
use super::connections::{not_removed, refused};
use crate::admin::Page;
use crate::connections::SecretView;
use crate::http::ApiError;
use crate::http::AppState;

/// Longest overlap accepted: a rotation that takes longer than a month is a forgotten
/// secret.
const MAX_OVERLAP_SECS: u64 = 30 * 24 * 3600;

#[derive(Debug, Default, Deserialize)]
#[serde(deny_unknown_fields)]
struct NewSecretBody {
    /// How long the older secrets keep verifying; 24 h when absent, 0 ends them now.
    #[serde(default, deserialize_with = "crate::store::whole_seconds")]
    overlap_secs: Option<u64>,
}

/// `POST`: 201 with the new secret, the only time it is shown.
pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
    body: Bytes,
) -> Result<Response, ApiError> {
    not_removed(&state, &id).await?;
    let body: NewSecretBody = json(&body)?;
    if body
        .overlap_secs
        .is_some_and(|secs| secs > MAX_OVERLAP_SECS)
    {
        return Err(ApiError::Unprocessable(format!(
            "overlap_secs: at most {MAX_OVERLAP_SECS} (30 days)"
        )));
    }
    let secret =
        super::operations::add_tovuti_secret(&state, &caller, &id, body.overlap_secs).await?;
    Ok((StatusCode::CREATED, Json(secret)).into_response())
}

/// `GET`: id, fingerprint, creation and expiry of each secret; never the secret.
pub async fn list(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Page<SecretView>>, ApiError> {
    not_removed(&state, &id).await?;
    let items = state
        .connections()
        .tovuti_secrets(&id)
        .await
        .map_err(refused)?;
    Ok(Json(Page { items, next: None }))
}

/// `DELETE .../{secret_id}`: the secret stops verifying now.
pub async fn revoke(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path((id, secret_id)): Path<(String, String)>,
) -> Result<StatusCode, ApiError> {
    not_removed(&state, &id).await?;
    super::operations::revoke_tovuti_secret(&state, &caller, &id, &secret_id).await?;
    Ok(StatusCode::NO_CONTENT)
}
