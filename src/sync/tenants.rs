//! What the engine knows per connection: the mapping it applies (the connection's own
//! `mapping_path`, else the configured one) and its Tovuti tenant's catalog (custom
//! fields, groups, courses), so two tenants' ids and names never mix.

use std::collections::HashMap;
use std::path::Path;
use std::sync::{Arc, Mutex, PoisonError};

use super::SyncError;
use super::tovuti_known::TovutiKnown;
use crate::mapping::Mapping;
use crate::mapping::file::read_source;
use crate::mapping::validate::load;
use crate::store::Connection;

/// One connection's mapping and tenant catalog.
pub struct Tenant {
    pub mapping: Arc<Mapping>,
    pub known: TovutiKnown,
    /// The mapping file this was built from (`None`: the configured mapping).
    mapping_path: Option<String>,
    /// The tenant the catalog was read from: another one starts afresh.
    tovuti_base_url: Option<String>,
}

impl Tenant {
    fn fits(&self, connection: &Connection) -> bool {
        self.mapping_path == connection.mapping_path
            && self.tovuti_base_url == connection.tovuti_base_url
    }
}

#[derive(Default)]
pub struct Tenants {
    by_connection: Mutex<HashMap<String, Arc<Tenant>>>,
}

impl Tenants {
    /// The connection's tenant, built on first use and again when its mapping file or
    /// its Tovuti base URL changes. A mapping file that no longer loads fails the event permanently (fix the
    /// file, then replay), rather than syncing with another mapping.
    pub fn of(
        &self,
        connection: &Connection,
        configured: &Arc<Mapping>,
    ) -> Result<Arc<Tenant>, SyncError> {
        let mut map = self
            .by_connection
            .lock()
            .unwrap_or_else(PoisonError::into_inner);
        if let Some(tenant) = map.get(&connection.id).filter(|t| t.fits(connection)) {
            return Ok(Arc::clone(tenant));
        }
        let mapping = match &connection.mapping_path {
            None => Arc::clone(configured),
            Some(path) => Arc::new(load_file(path)?),
        };
        let tenant = Arc::new(Tenant {
            mapping,
            known: TovutiKnown::default(),
            mapping_path: connection.mapping_path.clone(),
            tovuti_base_url: connection.tovuti_base_url.clone(),
        });
        map.insert(connection.id.clone(), Arc::clone(&tenant));
        Ok(tenant)
    }
}

fn load_file(path: &str) -> Result<Mapping, SyncError> {
    let (name, text) = read_source(Some(Path::new(path))).map_err(SyncError::Permanent)?;
    load(&name, &text).map_err(|e| SyncError::Permanent(format!("the connection's mapping: {e}")))
}
