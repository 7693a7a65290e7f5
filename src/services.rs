//! What every part of the service shares below the HTTP layer: the configuration, the
//! store, the metrics, the shutdown signal and this process's identity.

use std::sync::Arc;

use anyhow::Context as _;
use tokio_util::sync::CancellationToken;

use crate::config::Config;
use crate::store::{self, Cipher, Store};
use crate::telemetry::Metrics;

/// The shared handles the worker, the poller, the sweep and the HTTP layer all read.
#[derive(Clone)]
pub struct Services {
    /// The validated configuration.
    pub config: Arc<Config>,
    /// The durable store.
    pub store: Arc<dyn Store>,
    /// The Prometheus registry and families.
    pub metrics: Arc<Metrics>,
    /// Cancelled when the process starts draining: readiness fails, intake refuses with
    /// 429 + Retry-After, background tasks wind down.
    pub shutdown: CancellationToken,
    /// Unique per process: the owner name of the leases it takes.
    pub instance_id: String,
}

impl Services {
    /// Opens the store (lazily for PostgreSQL) with the configured encryption key.
    /// `metrics` comes in built so callers can register their own families first.
    pub async fn open(
        config: Config,
        metrics: Metrics,
        shutdown: CancellationToken,
    ) -> anyhow::Result<Self> {
        let cipher = config
            .security
            .encryption_key
            .expose()
            .map(Cipher::from_base64)
            .transpose()
            .map_err(anyhow::Error::msg)
            .context("security.encryption_key")?;
        let store = store::connect(&config.store, cipher)
            .await
            .context("opening the store")?;
        Ok(Self {
            config: Arc::new(config),
            store,
            metrics: Arc::new(metrics),
            shutdown,
            instance_id: format!("bridge-{}", uuid::Uuid::now_v7().simple()),
        })
    }

    pub fn is_draining(&self) -> bool {
        self.shutdown.is_cancelled()
    }
}
