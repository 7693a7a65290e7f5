//! The HTTP edge: the router, its middleware and the error envelope.

pub mod admin;
pub mod error;
pub mod middleware;
pub mod routes;
pub mod server;
mod tracked;

use axum::Router;

pub use error::ApiError;
pub use routes::webhooks::{TOVUTI_SECRET_KIND, WebhookIntake};
pub use server::Server;

use crate::state::AppState;

/// The routes of the main listener with the middleware stack applied: every route, or
/// every route but the admin API's when `admin.listen` gives it a listener of its own.
pub fn router(state: AppState) -> Router {
    let mut routes = routes::router();
    if state.config.admin.listen.is_empty() {
        routes = routes.merge(admin::router(&state.config));
    }
    middleware::apply(routes, &state).with_state(state)
}

/// The admin API alone with the middleware stack applied, for its own listener.
pub fn admin_router(state: AppState) -> Router {
    middleware::apply(admin::router(&state.config), &state).with_state(state)
}
