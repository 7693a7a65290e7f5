//! Prometheus scrape endpoint.

use std::time::Duration;

use axum::extract::State;
use axum::http::{Method, header};
use axum::response::IntoResponse;

use super::Route;
use crate::http::AppState;
use crate::store::Millis;

const OPENMETRICS: &str = "application/openmetrics-text; version=1.0.0; charset=utf-8";

/// Inbox depth is read from the store at scrape time; a slow store must not stall the scrape.
const DEPTH_TIMEOUT: Duration = Duration::from_secs(2);

async fn metrics(State(state): State<AppState>) -> impl IntoResponse {
    match tokio::time::timeout(DEPTH_TIMEOUT, state.store.open_events_summary()).await {
        Ok(Ok(open)) => state.metrics.set_inbox_depth(&open, Millis::now()),
        Ok(Err(error)) => tracing::debug!(error = %error, "metrics: inbox depth unavailable"),
        Err(_) => tracing::debug!("metrics: inbox depth timed out"),
    }
    (
        [(header::CONTENT_TYPE, OPENMETRICS)],
        state.metrics.encode(),
    )
}

pub fn routes() -> Vec<Route> {
    vec![Route::new(Method::GET, "/metrics", metrics)]
}
