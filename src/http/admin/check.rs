//! `POST /api/v1/connections/{id}/check`: the `check` command for one connection, over
//! HTTP: each GHL capability its mapping needs, the token's limits, the Tovuti token and
//! catalog, structured. It reads and changes nothing on either platform beyond probes.

use std::sync::Arc;

use axum::Json;
use axum::extract::{Extension, Path, State};

use super::auth::Caller;
use crate::http::ApiError;
use crate::http::AppState;
use crate::platforms::ghl::client::LocationApi;
use crate::platforms::tovuti::TovutiApi;
use crate::store::Connection;
use crate::verify::{CheckView, LoadedMapping};

pub async fn check(
    State(state): State<AppState>,
    Extension(caller): Extension<Caller>,
    Path(id): Path<String>,
) -> Result<Json<CheckView>, ApiError> {
    let connection = super::connections::live(&state, &id).await?;
    Ok(Json(
        super::operations::check(&state, &caller, &connection).await?,
    ))
}

pub(crate) async fn run(state: &AppState, connection: &Connection) -> Result<CheckView, ApiError> {
    let clients = clients(state, connection).await?;
    let loaded = &clients.mapping;
    let report = crate::verify::check(
        &clients.ghl,
        clients.tovuti.as_deref(),
        &loaded.mapping,
        loaded.source(),
        None,
    )
    .await;
    Ok(CheckView::from(&report))
}

/// A connection's mapping and interactive clients for both platforms, as a check (or a
/// sample round trip) uses them.
pub(crate) struct Clients {
    pub mapping: LoadedMapping,
    pub ghl: LocationApi,
    /// `None` when the connection has no Tovuti API.
    pub tovuti: Option<Arc<dyn TovutiApi>>,
}

pub(crate) async fn clients(
    state: &AppState,
    connection: &Connection,
) -> Result<Clients, ApiError> {
    let path = connection
        .mapping_path
        .as_deref()
        .unwrap_or(&state.config.mapping.file);
    let mapping = LoadedMapping::read(path).map_err(|why| {
        ApiError::Conflict(format!("the connection's mapping does not load: {why}"))
    })?;
    // The process's own clients: a check's requests go through the location's lane,
    // ahead of background sync, and count against the same quota.
    let clients = &state.clients;
    let ghl = clients
        .ghl(connection)
        .await
        .map_err(|e| ApiError::Conflict(format!("the connection cannot reach GHL: {e}")))?
        .interactive();
    let tovuti = clients
        .tovuti(connection)
        .await
        .map_err(|e| ApiError::Conflict(format!("the connection's Tovuti client: {e}")))?;
    Ok(Clients {
        mapping,
        ghl,
        tovuti,
    })
}
