//! The admin API under `/api/v1`: bearer tokens (full or read-only, several of each for
//! rotation), a failed-authentication limit per source address, bounded bodies and
//! pages, and an audit entry for every change. Off (404) until a token is configured.
//! The queries behind it live in `crate::admin`, shared with the `events` command.

mod audit;
pub(crate) mod auth;
pub(crate) mod backfills;
mod body;
pub(crate) mod check;
pub(crate) mod connections;
mod events;
pub(crate) mod gate;
mod install_link;
pub(crate) mod lane;
mod links;
pub(crate) mod mapping;
pub(crate) mod operations;
pub(crate) mod params;
mod replay;
mod secrets;
mod summary;
mod throttle;

use std::sync::Arc;

use axum::Router;
use axum::http::Method;
use tower_http::limit::RequestBodyLimitLayer;

pub use audit::audit;
pub use auth::{Access, Caller, token_id};
pub use throttle::FailedAuth;

use super::ApiError;
use super::routes::Route;
use crate::config::{Config, split_tokens};
use crate::http::AppState;
use crate::store::StoreError;

/// Every admin path starts with this.
pub const PREFIX: &str = "/api/v1/";

/// Largest admin request body; admin calls carry small JSON filters.
pub const BODY_LIMIT: usize = 1024 * 1024;

const CONNECTION: &str = "/api/v1/connections/{id}";
const SECRETS: &str = "/api/v1/connections/{id}/tovuti-secrets";
const BACKFILLS: &str = "/api/v1/connections/{id}/backfills";

/// The admin routes: events, the audit log, connections and their tools. Other modules
/// may list `/api/v1` routes of their own in the route table; `router` guards them all
/// alike.
pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::GET, "/api/v1/events", events::list),
        Route::new(Method::GET, "/api/v1/events/{id}", events::show),
        Route::new(Method::POST, "/api/v1/events/{id}/replay", replay::one),
        Route::new(Method::POST, "/api/v1/events/replay", replay::matching),
        Route::new(Method::GET, "/api/v1/dead-letters", summary::dead_letters),
        Route::new(Method::GET, "/api/v1/backlog", summary::backlog),
        Route::new(Method::GET, "/api/v1/audit", audit::list),
        Route::new(Method::GET, "/api/v1/connections", connections::list),
        Route::new(Method::POST, "/api/v1/connections", connections::create),
        Route::new(Method::GET, CONNECTION, connections::show),
        Route::new(Method::PATCH, CONNECTION, connections::update),
        Route::new(Method::DELETE, CONNECTION, connections::remove),
        Route::new(
            Method::POST,
            "/api/v1/connections/{id}/pause",
            connections::pause,
        ),
        Route::new(
            Method::POST,
            "/api/v1/connections/{id}/resume",
            connections::resume,
        ),
        Route::new(Method::POST, "/api/v1/connections/{id}/check", check::check),
        Route::new(Method::GET, "/api/v1/connections/{id}/links", links::show),
        Route::new(Method::GET, "/api/v1/connections/{id}/ghl-lane", lane::show),
        Route::new(
            Method::POST,
            "/api/v1/connections/{id}/install-link",
            install_link::create,
        ),
        Route::new(
            Method::POST,
            "/api/v1/connections/{id}/preview",
            mapping::preview,
        ),
        Route::new(Method::POST, "/api/v1/mapping/validate", mapping::validate),
        Route::new(
            Method::GET,
            "/api/v1/connections/{id}/poller",
            summary::poller,
        ),
        Route::new(Method::GET, BACKFILLS, backfills::list),
        Route::new(Method::POST, BACKFILLS, backfills::start),
        Route::new(Method::GET, "/api/v1/backfills/{run}", backfills::show),
        Route::new(
            Method::POST,
            "/api/v1/backfills/{run}/cancel",
            backfills::cancel,
        ),
        Route::new(Method::GET, SECRETS, secrets::list),
        Route::new(Method::POST, SECRETS, secrets::create),
        Route::new(
            Method::DELETE,
            "/api/v1/connections/{id}/tovuti-secrets/{secret_id}",
            secrets::revoke,
        ),
    ]
}

pub fn is_admin(path: &str) -> bool {
    path.starts_with(PREFIX)
}

/// The failed-authentication counter of one listener, shared by the admin API's guard
/// and the console's sign-in.
pub fn failed_auth(config: &Config) -> Arc<FailedAuth> {
    Arc::new(FailedAuth::per_minute(
        config.admin.auth_failures_per_minute,
    ))
}

/// Every route of the table under `PREFIX` (these, and any another module lists) behind
/// the guard and the body limit: no `/api/v1` route can be served unguarded.
pub fn router(config: &Config, failures: Arc<FailedAuth>) -> Router<AppState> {
    let gate = Arc::new(gate::Gate::new(config, failures));
    let guarded = super::routes::table()
        .into_iter()
        .filter(|route| is_admin(route.path));
    super::routes::router_of(guarded)
        .route_layer(axum::middleware::from_fn_with_state(gate, gate::check))
        .layer(RequestBodyLimitLayer::new(BODY_LIMIT))
}

/// Whether any admin token is configured.
pub fn enabled(config: &Config) -> bool {
    let security = &config.security;
    [&security.admin_token, &security.admin_read_tokens]
        .iter()
        .any(|secret| {
            split_tokens(secret.expose().unwrap_or_default())
                .next()
                .is_some()
        })
}

/// One startup line saying whether the admin API is served, and how to turn it on.
pub fn log_status(config: &Config) {
    if !enabled(config) {
        tracing::info!(
            "the admin API (/api/v1) is disabled: set BRIDGE_ADMIN_TOKEN (full access) or \
             BRIDGE_ADMIN_READ_TOKENS (read-only) to enable it"
        );
    }
}

/// A store failure as the client sees it: 503 when the database is unreachable (try
/// again), else a logged 500 that says nothing of the cause.
pub(crate) fn store_failed(error: StoreError) -> ApiError {
    match error {
        StoreError::Unavailable(_) => {
            ApiError::Unavailable("the store is unavailable; try again shortly".into())
        }
        other => ApiError::Internal(other.into()),
    }
}
