//! What every handler and background task shares.

use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::http::WebhookIntake;
use crate::store::Store;
use crate::telemetry::Metrics;

#[derive(Clone)]
pub struct AppState {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The durable store.
    pub store: Arc<dyn Store>,
    /// The Prometheus registry and families.
    pub metrics: Arc<Metrics>,
    /// Webhook verifiers, lookups and back-pressure, built once from the configuration.
    pub webhooks: Arc<WebhookIntake>,
    /// Cancelled when the process starts draining: readiness fails, intake refuses with
    /// 429 + Retry-After, background tasks wind down.
    pub shutdown: CancellationToken,
    /// Unique per process: the owner name of the leases it takes. Shared rather than
    /// owned, because the state is cloned several times per request.
    pub instance_id: Arc<str>,
}

impl AppState {
    pub fn is_draining(&self) -> bool {
        self.shutdown.is_cancelled()
    }
}
