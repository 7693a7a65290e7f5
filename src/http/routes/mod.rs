//! One module per group of routes; each ends with its own `router()`.

mod health;
mod metrics;
pub mod webhooks;

use axum::Router;

use crate::state::AppState;

pub fn router() -> Router<AppState> {
    Router::new()
        .merge(health::router())
        .merge(metrics::router())
        .merge(webhooks::router())
}
