//! Liveness and readiness probes for the load balancer and Kubernetes.

use std::time::Duration;

use axum::Json;
use axum::extract::State;
use axum::http::Method;
use serde_json::{Value, json};

use super::Route;
use crate::http::ApiError;
use crate::http::AppState;

/// Alive: touches nothing, so a slow database never gets the pod restarted.
async fn healthz() -> Json<Value> {
    Json(json!({ "status": "ok" }))
}

/// Ready: not draining, store reachable, migrations applied.
async fn readyz(State(state): State<AppState>) -> Result<Json<Value>, ApiError> {
    if state.is_draining() {
        return Err(ApiError::Unavailable("shutting down".into()));
    }
    let check = async {
        state.store.ping().await?;
        state.store.migrations_applied().await
    };
    // A store check slower than the bound counts as unreachable, so the probe is answered
    // within its own timeout even while the database hangs.
    let bound = Duration::from_millis(state.config.server.readiness_timeout_ms);
    let outcome = tokio::time::timeout(bound, check).await;
    state
        .metrics
        .store_up
        .set(i64::from(matches!(outcome, Ok(Ok(_)))));
    match outcome {
        Ok(Ok(true)) => Ok(Json(
            json!({ "status": "ready", "store": state.store.backend() }),
        )),
        Ok(Ok(false)) => Err(ApiError::Unavailable(
            "store migrations are not applied yet".into(),
        )),
        Ok(Err(error)) => {
            tracing::warn!(error = %error, "readiness: store check failed");
            Err(ApiError::Unavailable("store unreachable".into()))
        }
        Err(_) => Err(ApiError::Unavailable(
            "store unreachable (timed out)".into(),
        )),
    }
}

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/healthz", healthz),
        Route::new(Method::GET, "/readyz", readyz),
    ]
}
