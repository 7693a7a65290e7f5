//! `GET /api/v1/dead-letters` and `GET /api/v1/backlog`: per-connection summaries.

use axum::Json;
use axum::extract::State;

use super::store_failed;
use crate::admin::Page;
use crate::admin::summary::{Backlog, DeadLetters};
use crate::http::ApiError;
use crate::state::AppState;
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
