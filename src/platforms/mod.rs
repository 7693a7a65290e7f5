//! Adapters to the two platforms: clients, authentication, payload types and webhook
//! verification.

#[cfg(test)]
pub(crate) mod arb_json;
mod error_class;
pub mod ghl;
pub(crate) mod keys;
mod lenient;
pub mod replay;
pub mod tovuti;
mod verified;

use std::fmt;

pub use error_class::ErrorClass;
pub use verified::{KeyError, Verified, VerifyError};

/// The key that serialises work per entity: events with the same key are applied in the order
/// received, never concurrently. Its text form is stable because the
/// store persists it, e.g. `ghl:contact:abc` or `tovuti:user:42`.
#[derive(Debug, Clone, PartialEq, Eq, Hash, PartialOrd, Ord)]
pub struct EntityKey(String);

impl EntityKey {
    pub(crate) fn new(platform: &str, kind: &str, id: &str) -> Self {
        Self(format!("{platform}:{kind}:{id}"))
    }

    pub fn as_str(&self) -> &str {
        &self.0
    }
}

impl fmt::Display for EntityKey {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.0)
    }
}

impl From<EntityKey> for String {
    fn from(key: EntityKey) -> Self {
        key.0
    }
}
