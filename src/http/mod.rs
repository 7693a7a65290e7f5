//! The HTTP edge: the router, its middleware and the error envelope.

pub mod admin;
pub mod console;
pub mod error;
pub mod middleware;
pub mod routes;
pub mod server;
mod state;
mod tracked;

use axum::Router;

pub use error::ApiError;
pub use routes::webhooks::{TOVUTI_SECRET_KIND, WebhookIntake};
pub use server::Server;
pub use state::{AppState, AppStateInner};

/// The routes of the main listener with the middleware stack applied: every route, or
/// every route but the admin API's and the console's when `admin.listen` gives them a
/// listener of their own.
pub fn router(state: AppState) -> Router {
    let mut routes = routes::router();
    if state.config.admin.listen.is_empty() {
        routes = routes.merge(operator_routes(&state));
    }
    middleware::apply(routes, &state).with_state(state)
}

/// The admin API and the console alone with the middleware stack applied, for the admin
/// listener.
pub fn admin_router(state: AppState) -> Router {
    middleware::apply(operator_routes(&state), &state).with_state(state)
}

/// The admin API and the console, drawing on one failed-authentication quota per address.
fn operator_routes(state: &AppState) -> Router<AppState> {
    let failures = admin::failed_auth(&state.config);
    admin::router(&state.config, failures.clone()).merge(console::router(state, failures))
}
