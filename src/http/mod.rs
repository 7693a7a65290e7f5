//! The HTTP edge: the router, its middleware and the error envelope.

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

/// Every route of the service with the middleware stack applied.
pub fn router(state: AppState) -> Router {
    let routes = routes::router();
    middleware::apply(routes, &state).with_state(state)
}
