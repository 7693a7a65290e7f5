//! The sync engine a process runs, assembled from its services: the configured mapping
//! and the platforms' clients.

use std::sync::Arc;

use super::{Clients, SyncEngine};
use crate::services::Services;

impl SyncEngine {
    /// The engine of the configured mapping over the process's `platforms` (the worker's,
    /// a backfill's).
    pub fn from_services(services: &Services, clients: Arc<Clients>) -> anyhow::Result<Self> {
        let mapping =
            crate::mapping::file::load_configured(&services.config).map_err(anyhow::Error::msg)?;
        Ok(Self::new(
            services.store.clone(),
            Arc::new(mapping),
            clients,
            services.metrics.clone(),
            services.instance_id.clone(),
        ))
    }
}
