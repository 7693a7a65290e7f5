//! A small time-bounded cache for per-delivery lookups (location → connection, connection →
//! verifier), so intake does not query the store for them on every request.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::RwLock;
use std::time::Duration;

use tokio::time::Instant;

/// Entries beyond this are dropped wholesale: the keys come from verified senders or the
/// URL path, and a flood of distinct keys must not grow memory without limit.
const MAX_ENTRIES: usize = 10_000;

#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    entries: RwLock<HashMap<K, (V, Instant)>>,
}

impl<K: Eq + Hash, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration) -> Self {
        Self {
            ttl,
            entries: RwLock::new(HashMap::new()),
        }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        // A poisoned lock only means a panic elsewhere mid-insert; the map is still usable.
        let entries = self
            .entries
            .read()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        let (value, stored_at) = entries.get(key)?;
        (stored_at.elapsed() < self.ttl).then(|| value.clone())
    }

    pub fn insert(&self, key: K, value: V) {
        let mut entries = self
            .entries
            .write()
            .unwrap_or_else(std::sync::PoisonError::into_inner);
        if entries.len() >= MAX_ENTRIES {
            entries.clear();
        }
        entries.insert(key, (value, Instant::now()));
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[tokio::test(start_paused = true)]
    async fn entries_expire_after_the_ttl() {
        let cache = TtlCache::new(Duration::from_secs(30));
        cache.insert("loc".to_owned(), Some("conn".to_owned()));

        tokio::time::advance(Duration::from_secs(29)).await;
        assert_eq!(cache.get("loc"), Some(Some("conn".to_owned())));

        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(cache.get("loc"), None);
    }
}
