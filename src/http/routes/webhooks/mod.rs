//! The two front doors: `POST /webhooks/ghl` and `POST /webhooks/tovuti[/{connection}]`.
//!
//! Each handler takes the raw bytes, verifies them, stores the delivery durably, and only
//! then answers 200. When the delivery cannot be stored it answers 429 with `Retry-After`,
//! never 5xx, because GHL redelivers only on 429.
//! Parsing into typed events is done here only to route (entity key, connection); a genuine
//! delivery that does not parse is still stored, as `ignored` with an `unparseable` note.

mod backlog;
mod ghl;
mod intake;
mod lookup;
mod metrics;
mod tovuti;

use axum::http::Method;

pub use intake::WebhookIntake;
pub use tovuti::SECRET_KIND as TOVUTI_SECRET_KIND;

use super::Route;

pub fn routes() -> Vec<Route> {
    vec![
        Route::new(Method::POST, ghl::PATH, ghl::receive),
        Route::new(Method::POST, tovuti::PATH, tovuti::receive_default),
        Route::new(
            Method::POST,
            tovuti::CONNECTION_PATH,
            tovuti::receive_for_connection,
        ),
    ]
}
