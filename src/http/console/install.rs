//! `POST /console/connections/{id}/install`: starts GHL's OAuth install for a connection
//! from its page. It makes the same install link as
//! `POST /api/v1/connections/{id}/install-link` (the same operation, audited as
//! `connection.install_link`) and sends the browser straight to it, so the operator picks
//! the connection's sub-account in GHL and comes back through the callback.

use std::sync::Arc;

use axum::Extension;
use axum::extract::{Path, State};
use axum::response::Response;

use super::Console;
use super::render::refused;
use super::session::Session;
use crate::http::AppState;
use crate::http::admin::connections::live;
use crate::http::admin::operations;

pub async fn start(
    State(state): State<AppState>,
    Extension(console): Extension<Arc<Console>>,
    Extension(session): Extension<Session>,
    Path(id): Path<String>,
) -> Response {
    let connection = match live(&state, &id).await {
        Ok(connection) => connection,
        Err(error) => return refused(&console, &session, error),
    };
    match operations::install_link(&state, &session.caller, &connection).await {
        Ok((url, _expires_at)) => super::see_other(url.as_str()),
        Err(error) => refused(&console, &session, error),
    }
}
