//! One module per group of routes; each lists its routes with `routes()`. The router is
//! built from that table, and the OpenAPI test compares the same table with
//! `openapi.yaml`, so the two cannot drift apart.

mod health;
mod metrics;
pub(crate) mod oauth;
pub mod webhooks;

use axum::Router;
use axum::handler::Handler;
use axum::http::Method;
use axum::routing::{MethodRouter, on};

use crate::http::AppState;

/// One route: method, path template (OpenAPI syntax, `{param}`) and handler.
pub struct Route {
    pub method: Method,
    pub path: &'static str,
    handler: MethodRouter<AppState>,
}

impl Route {
    pub fn new<H, T>(method: Method, path: &'static str, handler: H) -> Self
    where
        H: Handler<T, AppState>,
        T: 'static,
    {
        let filter = axum::routing::MethodFilter::try_from(method.clone())
            .unwrap_or_else(|_| unreachable!("routes use standard methods"));
        Self {
            method,
            path,
            handler: on(filter, handler),
        }
    }
}

/// Every route the service serves.
pub fn table() -> Vec<Route> {
    [
        health::routes(),
        metrics::routes(),
        webhooks::routes(),
        oauth::routes(),
        crate::http::admin::routes(),
    ]
    .into_iter()
    .flatten()
    .collect()
}

/// Every route but the admin API's, which `http::admin::router` serves behind its guard.
pub fn router() -> Router<AppState> {
    router_of(
        table()
            .into_iter()
            .filter(|route| !crate::http::admin::is_admin(route.path)),
    )
}

/// A router serving `routes`.
pub fn router_of(routes: impl IntoIterator<Item = Route>) -> Router<AppState> {
    routes.into_iter().fold(Router::new(), |router, route| {
        router.route(route.path, route.handler)
    })
}
