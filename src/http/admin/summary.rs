//! `GET /api/v1/dead-letters`, `GET /api/v1/backlog` and a connection's poller status:
//! per-connection summaries.

use axum::Json;
use axum::extract::{Path, State};

use super::store_failed;
use crate::admin::Page;
use crate::admin::summary::{Backlog, DeadLetters};
use crate::http::ApiError;
use crate::http::AppState;
use crate::store::Millis;

/// Dead events per connection, by reason (the error text up to its first colon).
pub async fn dead_letters(
    State(state): State<AppState>,
) -> Result<Json<Page<DeadLetters>>, ApiError> {
    let items = crate::admin::summary::dead_letters(state.store.as_ref())
        .await
        .map_err(store_failed)?;
    Ok(Json(Page { items, next: None }))
}

/// Unfinished events per connection and status, and how long the oldest has waited.
pub async fn backlog(State(state): State<AppState>) -> Result<Json<Page<Backlog>>, ApiError> {
    let items = crate::admin::summary::backlog(state.store.as_ref(), Millis::now())
        .await
        .map_err(store_failed)?;
    Ok(Json(Page { items, next: None }))
}

/// `GET /api/v1/connections/{id}/poller`: each polled resource's last completed scan,
/// lag, and whether a scan is under way, from the stored cursors.
pub async fn poller(
    State(state): State<AppState>,
    Path(id): Path<String>,
) -> Result<Json<Page<crate::poller::ResourceStatus>>, ApiError> {
    let connection = super::connections::live(&state, &id).await?;
    let items = crate::poller::status(
        state.store.as_ref(),
        &state.config.poller,
        &connection,
        Millis::now(),
    )
    .await
    .map_err(store_failed)?;
    Ok(Json(Page { items, next: None }))
}
