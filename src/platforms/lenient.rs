//! Serde helpers for payloads from platforms that send `null` where a list or map is expected.

use serde::{Deserialize, Deserializer};

/// Treats an explicit `null` like an absent field. Use together with `#[serde(default)]`: a
/// `null` list from a platform must not make the whole event unparseable.
pub(crate) fn null_as_default<'de, D, T>(deserializer: D) -> Result<T, D::Error>
where
    D: Deserializer<'de>,
    T: Default + Deserialize<'de>,
{
    Ok(Option::<T>::deserialize(deserializer)?.unwrap_or_default())
}
