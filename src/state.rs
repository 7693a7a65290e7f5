//! What every handler and background task shares.

use std::ops::Deref;
use std::sync::Arc;

use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::http::WebhookIntake;
use crate::store::Store;
use crate::telemetry::Metrics;

/// The shared state behind one reference count. axum clones the state several times per
/// request (router, middleware, extractor); one `Arc` makes each clone a single counter
/// update instead of one per field.
#[derive(Clone)]
pub struct AppState(Arc<Shared>);

#[derive(Clone)]
pub struct Shared {
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
    /// Unique per process: the owner name of the leases it takes.
    pub instance_id: String,
}

impl AppState {
    pub fn new(shared: Shared) -> Self {
        Self(Arc::new(shared))
    }

    pub fn is_draining(&self) -> bool {
        self.shutdown.is_cancelled()
    }

    /// The connection operations over this state's store, dropping the webhook verifier
    /// a change makes stale so it applies to the next delivery.
    pub fn connections(&self) -> crate::connections::Connections {
        let webhooks = Arc::clone(&self.webhooks);
        crate::connections::Connections::new(self.store.clone(), self.config.clone())
            .with_on_change(Arc::new(move |id: &str| webhooks.forget_connection(id)))
    }
}

impl Deref for AppState {
    type Target = Shared;

    fn deref(&self) -> &Shared {
        &self.0
    }
}
