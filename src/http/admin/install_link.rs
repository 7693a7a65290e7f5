//! `POST /api/v1/connections/{id}/install-link`: GHL's authorize URL for installing the
//! Marketplace app into this connection. Its state is bound to the connection in the
//! store, so the callback saves the grant there (and refuses a sub-account that is not
//! the connection's). Works once, for 10 minutes; the link itself is never audited.

use axum::Json;
use axum::extract::{Extension, Path, State};
use serde::Serialize;

use super::audit::audit;
use super::auth::Caller;
use crate::admin::rfc3339;
use crate::http::ApiError;
use crate::http::AppState;
use crate::http::routes::oauth::install_link;

#[derive(Debug, Serialize)]
pub struct InstallLinkView {
    pub connection_id: String,
    /// Open it in a browser signed in to GHL and choose the connection's sub-account.
    pub url: String,
    pub expires_at: String,
}

pub async fn create(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<InstallLinkView>, ApiError> {
    let connection = super::connections::live(&state, &id).await?;
    if connection.ghl_location_id.is_none() {
        return Err(ApiError::Conflict(format!(
            "connection {id} has no GHL location; set ghl_location_id first"
        )));
    }
    let (url, expires_at) = install_link(&state, &id).await?;
    let expires_at = rfc3339(expires_at);
    let detail = serde_json::json!({ "expires_at": expires_at });
    audit(
        &state,
        &caller,
        "connection.install_link",
        Some(&id),
        None,
        detail,
    )
    .await?;
    Ok(Json(InstallLinkView {
        connection_id: id,
        url: url.into(),
        expires_at,
    }))
}
