//! `POST /api/v1/connections/{id}/install-link`: GHL's authorize URL for installing the
//! Marketplace app into this connection. Its state is bound to the connection in the
//! store, so the callback saves the grant there (and refuses a sub-account that is not
//! the connection's). Works once, for 10 minutes; the link itself is never audited.

use axum::Json;
use axum::extract::{Extension, Path, State};
use serde::Serialize;

use super::auth::Caller;
use crate::http::ApiError;
use crate::http::AppState;

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
    let (url, expires_at) = super::operations::install_link(&state, &caller, &connection).await?;
    Ok(Json(InstallLinkView {
        connection_id: id,
        url: url.into(),
        expires_at,
    }))
}
