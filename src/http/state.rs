//! What every handler shares: the services below the HTTP layer and the webhook intake.

use std::ops::Deref;
use std::sync::Arc;

use crate::backfill::Jobs;
use crate::connections::Connections;
use crate::http::WebhookIntake;
use crate::services::Services;
use crate::sync::Clients;

/// The shared state behind one reference count. axum clones the state several times per
/// request (router, middleware, extractor); one `Arc` makes each clone a single counter
/// update instead of one per field. Field access reaches through to [`Services`]
/// (`state.store`, `state.config`).
#[derive(Clone)]
pub struct AppState(Arc<AppStateInner>);

pub struct AppStateInner {
    /// Configuration, store, metrics, shutdown and instance id.
    pub services: Services,
    /// Webhook verifiers, lookups and back-pressure, built once from the configuration.
    pub webhooks: Arc<WebhookIntake>,
    /// The backfill jobs this process runs.
    pub backfills: Arc<Jobs>,
    /// The GHL client with its per-location lanes and the Tovuti clients: one set per
    /// process, which the worker, the sweep and the backfill jobs share, so a handler's
    /// GHL requests count against the same quota as the sync's.
    pub clients: Arc<Clients>,
}

impl AppState {
    pub fn new(services: Services, webhooks: WebhookIntake, clients: Arc<Clients>) -> Self {
        let backfills = Arc::new(Jobs::new(services.clone(), Arc::clone(&clients)));
        Self(Arc::new(AppStateInner {
            services,
            webhooks: Arc::new(webhooks),
            backfills,
            clients,
        }))
    }

    /// The connection operations over this state's store, dropping the webhook verifier
    /// and the clients a change makes stale so it applies to the next delivery.
    pub fn connections(&self) -> Connections {
        let webhooks = Arc::clone(&self.webhooks);
        let clients = Arc::clone(&self.clients);
        Connections::new(self.store.clone(), self.config.clone()).with_on_change(Arc::new(
            move |id: &str| {
                webhooks.forget_connection(id);
                clients.forget(id);
            },
        ))
    }
}

impl Deref for AppState {
    type Target = AppStateInner;

    fn deref(&self) -> &AppStateInner {
        &self.0
    }
}

impl Deref for AppStateInner {
    type Target = Services;

    fn deref(&self) -> &Services {
        &self.services
    }
}
