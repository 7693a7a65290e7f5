//! The operator console at `/console`: HTML pages, rendered on the server from templates
//! embedded in the binary, over the same operations the admin API runs (`crate::admin`,
//! `Connections`, `crate::verify`). Sign-in with an admin token opens a session kept in
//! the database (so every replica knows it); every POST carries the session's CSRF
//! token; a read-only token's session may look but not change. Served where the admin
//! API is, and only while it is enabled.

mod audit;
mod backfills;
mod connection;
mod events;
mod form;
mod install;
mod manage;
mod mapping;
mod overview;
mod provision;
mod render;
mod sample;
mod session;
mod session_store;
mod sign_in;
mod when;

use std::sync::Arc;

use axum::Router;
use axum::extract::{Request, State};
use axum::http::{HeaderName, HeaderValue, header};
use axum::middleware::Next;
use axum::response::{IntoResponse as _, Response};
use axum::routing::{get, post};

use super::admin::FailedAuth;
use super::admin::auth::Tokens;
use crate::config::Config;
use crate::http::AppState;

pub use session::{IDLE_TIMEOUT, LIFETIME, SESSION_COOKIE};
use session_store::{Clock, Sessions};

/// Everything under this path is the console's.
pub const PREFIX: &str = "/console";

/// Largest form the console accepts: its forms carry a few short fields.
const FORM_LIMIT: usize = 64 * 1024;

/// What the console's handlers share: the tokens, the sessions, the failure counter
/// and the templates.
pub struct Console {
    tokens: Tokens,
    sessions: Sessions,
    failures: Arc<FailedAuth>,
    pages: render::Pages,
}

/// Whether the console is served: configured on and an admin token set.
pub fn enabled(config: &Config) -> bool {
    config.console.enabled && super::admin::enabled(config)
}

/// The console's routes; none at all (so 404) when it is off.
pub fn router(state: &AppState, failures: Arc<FailedAuth>) -> Router<AppState> {
    let config = &state.config;
    if !enabled(config) {
        return Router::new();
    }
    let console = Arc::new(Console {
        tokens: Tokens::from_config(&config.security),
        sessions: Sessions::new(state.store.clone(), Clock::system()),
        failures,
        pages: render::Pages::new(),
    });
    let signed_in = Router::new()
        .route("/console", get(overview::show))
        .route("/console/sign-out", post(sign_in::sign_out))
        .route("/console/connections/new", get(connection::new))
        .route("/console/connections", post(connection::create))
        .route("/console/connections/{id}", get(connection::show))
        .route("/console/connections/{id}/edit", post(connection::edit))
        .route("/console/connections/{id}/verify", post(connection::verify))
        .route("/console/connections/{id}/sample", post(sample::run))
        .route("/console/connections/{id}/install", post(install::start))
        .route("/console/connections/{id}/pause", post(connection::pause))
        .route("/console/connections/{id}/resume", post(connection::resume))
        .route("/console/connections/{id}/secret", post(connection::rotate))
        .route(
            "/console/connections/{id}/secrets/{secret_id}/revoke",
            post(manage::revoke),
        )
        .route(
            "/console/connections/{id}/remove",
            get(manage::confirm).post(manage::remove),
        )
        .route("/console/connections/{id}/mapping", get(mapping::show))
        .route(
            "/console/connections/{id}/mapping/preview",
            post(mapping::preview),
        )
        .route(
            "/console/connections/{id}/mapping/provision",
            post(provision::create),
        )
        .route(
            "/console/connections/{id}/backfills",
            get(backfills::show).post(backfills::start),
        )
        .route("/console/backfills/{run}/cancel", post(backfills::cancel))
        .route(
            "/console/backfills/{run}/progress",
            get(backfills::progress),
        )
        .route("/console/audit", get(audit::list))
        .route("/console/events", get(events::list))
        .route("/console/events/replay", post(events::replay_matching))
        .route("/console/events/{id}", get(events::show))
        .route("/console/events/{id}/replay", post(events::replay_one))
        .route_layer(axum::middleware::from_fn_with_state(
            Arc::clone(&console),
            session::guard,
        ));
    Router::new()
        .route(
            "/console/sign-in",
            get(sign_in::form).post(sign_in::sign_in),
        )
        .route("/console/assets/console.css", get(render::stylesheet))
        .route("/console/assets/console.js", get(render::script))
        .merge(signed_in)
        .layer(axum::Extension(console))
        .layer(axum::middleware::from_fn_with_state(
            Arc::new(policy(config)),
            security_headers,
        ))
}

/// The Content-Security-Policy of every console answer: nothing from elsewhere, no inline
/// script or style, no framing. Forms post to the console only, except that the OAuth
/// install form's answer redirects to GHL's authorize page, which browsers check against
/// `form-action` too: its origin is allowed when OAuth is configured.
fn policy(config: &Config) -> HeaderValue {
    let ghl = &config.ghl;
    let authorize = (!ghl.client_id.is_empty())
        .then(|| url::Url::parse(&ghl.oauth_authorize_url).ok())
        .flatten()
        .map(|url| url.origin())
        .filter(url::Origin::is_tuple)
        .map(|origin| format!(" {}", origin.ascii_serialization()))
        .unwrap_or_default();
    let policy = format!(
        "default-src 'self'; base-uri 'none'; form-action 'self'{authorize}; \
         frame-ancestors 'none'; object-src 'none'"
    );
    HeaderValue::from_str(&policy).unwrap_or_else(|_| HeaderValue::from_static(STRICT_POLICY))
}

/// The policy without the install's exception, for an authorize URL that cannot be put in
/// a header.
const STRICT_POLICY: &str = "default-src 'self'; base-uri 'none'; form-action 'self'; \
                             frame-ancestors 'none'; object-src 'none'";

/// Headers on every console answer: a strict Content-Security-Policy ([`policy`]), no
/// framing, no sniffing, no caching of pages that show operational data, no referrer
/// (event ids) sent to other sites; a same-origin referrer policy, as `no-referrer` would
/// make the browser send `Origin: null` on the console's own form posts.
async fn security_headers(
    State(policy): State<Arc<HeaderValue>>,
    request: Request,
    next: Next,
) -> Response {
    let mut response = next.run(request).await;
    let headers = response.headers_mut();
    headers.insert(header::CONTENT_SECURITY_POLICY, policy.as_ref().clone());
    let fixed: [(HeaderName, &str); 4] = [
        (header::X_FRAME_OPTIONS, "DENY"),
        (header::X_CONTENT_TYPE_OPTIONS, "nosniff"),
        (header::REFERRER_POLICY, "same-origin"),
        (header::CACHE_CONTROL, "no-store"),
    ];
    for (name, value) in fixed {
        headers.insert(name, HeaderValue::from_static(value));
    }
    response
}

/// A 303 to `location` (after a form post, so a reload does not post again).
fn see_other(location: &str) -> Response {
    match HeaderValue::from_str(location) {
        Ok(value) => (
            axum::http::StatusCode::SEE_OTHER,
            [(header::LOCATION, value)],
        )
            .into_response(),
        Err(_) => axum::http::StatusCode::BAD_REQUEST.into_response(),
    }
}
