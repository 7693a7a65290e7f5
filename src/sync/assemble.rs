//! The sync engine a process runs, assembled from its services: the configured mapping
//! and the platforms' clients.

use std::sync::Arc;

use super::{Platforms, SyncEngine};
use crate::services::Services;

impl SyncEngine {
    /// The engine of the configured mapping and platforms (the worker's, a backfill's).
    pub fn from_services(services: &Services) -> anyhow::Result<Self> {
        let mapping =
            crate::mapping::file::load_configured(&services.config).map_err(anyhow::Error::msg)?;
        let platforms = Platforms::new(
            services.config.clone(),
            services.store.clone(),
            services.metrics.clone(),
            &services.instance_id,
        )?;
        Ok(Self::new(
            services.store.clone(),
            Arc::new(mapping),
            platforms,
            services.metrics.clone(),
            services.instance_id.clone(),
        ))
    }
}
