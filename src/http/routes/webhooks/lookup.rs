//! A small time-bounded cache for per-delivery lookups (location → connection, connection →
//! verifier), so intake does not query the store for them on every request.
//!
//! Bounded by entries and by approximate bytes, and expired entries are purged before any
//! live one is dropped. No cache crate: the keys are few and short (connection names and
//! GHL location ids), so a map with these bounds is all this needs.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{PoisonError, RwLock};
use std::time::Duration;

use tokio::time::Instant;

/// Most entries kept.
const MAX_ENTRIES: usize = 10_000;
/// Most approximate bytes kept (keys plus what `weigh` says of each value).
const MAX_BYTES: usize = 4 * 1024 * 1024;
/// What an entry costs beyond its key and value payloads: the map slot, the timestamp.
const ENTRY_OVERHEAD: usize = 64;

#[derive(Debug)]
pub struct TtlCache<K, V> {
    ttl: Duration,
    max_entries: usize,
    max_bytes: usize,
    /// The approximate heap bytes of a value, beyond its inline size.
    weigh: fn(&V) -> usize,
    inner: RwLock<Entries<K, V>>,
}

#[derive(Debug)]
struct Entries<K, V> {
    map: HashMap<K, Entry<V>>,
    bytes: usize,
}

#[derive(Debug)]
struct Entry<V> {
    value: V,
    stored_at: Instant,
    bytes: usize,
}

/// Keys whose size the cache can count.
pub trait KeyBytes {
    fn key_bytes(&self) -> usize;
}

impl KeyBytes for String {
    fn key_bytes(&self) -> usize {
        self.len()
    }
}

impl<K: Eq + Hash + KeyBytes, V: Clone> TtlCache<K, V> {
    pub fn new(ttl: Duration, weigh: fn(&V) -> usize) -> Self {
        Self::bounded(ttl, weigh, MAX_ENTRIES, MAX_BYTES)
    }

    fn bounded(
        ttl: Duration,
        weigh: fn(&V) -> usize,
        max_entries: usize,
        max_bytes: usize,
    ) -> Self {
        Self {
            ttl,
            max_entries,
            max_bytes,
            weigh,
            inner: RwLock::new(Entries {
                map: HashMap::new(),
                bytes: 0,
            }),
        }
    }

    pub fn get<Q>(&self, key: &Q) -> Option<V>
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        // A poisoned lock only means a panic elsewhere mid-insert; the map is still usable.
        let entries = self.inner.read().unwrap_or_else(PoisonError::into_inner);
        let entry = entries.map.get(key)?;
        (entry.stored_at.elapsed() < self.ttl).then(|| entry.value.clone())
    }

    /// Forgets `key` now.
    pub fn remove<Q>(&self, key: &Q)
    where
        K: std::borrow::Borrow<Q>,
        Q: Eq + Hash + ?Sized,
    {
        let mut entries = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = entries.map.remove(key) {
            entries.bytes -= old.bytes;
        }
    }

    /// Forgets every entry whose value `matches`.
    pub fn remove_values(&self, matches: impl Fn(&V) -> bool) {
        let mut entries = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        let mut freed = 0;
        entries.map.retain(|_, entry| {
            let keep = !matches(&entry.value);
            if !keep {
                freed += entry.bytes;
            }
            keep
        });
        entries.bytes -= freed;
    }

    /// Remembers `value`. When a bound would be passed, expired entries go first, then
    /// everything (live entries are only ever re-read from the store, so dropping them
    /// costs a query each, never correctness). An entry larger than the whole budget is
    /// not kept.
    pub fn insert(&self, key: K, value: V) {
        let bytes = key.key_bytes() + size_of::<V>() + (self.weigh)(&value) + ENTRY_OVERHEAD;
        if bytes > self.max_bytes {
            return;
        }
        let mut entries = self.inner.write().unwrap_or_else(PoisonError::into_inner);
        if let Some(old) = entries.map.remove(&key) {
            entries.bytes -= old.bytes;
        }
        if self.over_bounds(&entries, bytes) {
            self.purge_expired(&mut entries);
        }
        if self.over_bounds(&entries, bytes) {
            entries.map.clear();
            entries.bytes = 0;
        }
        entries.bytes += bytes;
        let stored_at = Instant::now();
        entries.map.insert(
            key,
            Entry {
                value,
                stored_at,
                bytes,
            },
        );
    }

    /// Entries held now, expired ones included until they are purged.
    pub fn entry_count(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .map
            .len()
    }

    /// Approximate bytes held now.
    #[cfg(test)]
    fn bytes(&self) -> usize {
        self.inner
            .read()
            .unwrap_or_else(PoisonError::into_inner)
            .bytes
    }

    fn over_bounds(&self, entries: &Entries<K, V>, incoming: usize) -> bool {
        entries.map.len() >= self.max_entries || entries.bytes + incoming > self.max_bytes
    }

    fn purge_expired(&self, entries: &mut Entries<K, V>) {
        let ttl = self.ttl;
        let mut freed = 0;
        entries.map.retain(|_, entry| {
            let live = entry.stored_at.elapsed() < ttl;
            if !live {
                freed += entry.bytes;
            }
            live
        });
        entries.bytes -= freed;
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    fn no_heap(_: &Option<String>) -> usize {
        0
    }

    #[tokio::test(start_paused = true)]
    async fn entries_expire_after_the_ttl() {
        let cache = TtlCache::new(Duration::from_secs(30), no_heap);
        cache.insert("loc".to_owned(), Some("conn".to_owned()));

        tokio::time::advance(Duration::from_secs(29)).await;
        assert_eq!(cache.get("loc"), Some(Some("conn".to_owned())));

        tokio::time::advance(Duration::from_secs(1)).await;
        assert_eq!(cache.get("loc"), None);
    }

    #[tokio::test(start_paused = true)]
    async fn a_removed_entry_is_gone_and_its_bytes_freed() {
        let cache = TtlCache::new(Duration::from_secs(30), no_heap);
        cache.insert("conn".to_owned(), Some("x".to_owned()));

        cache.remove("conn");

        assert_eq!(cache.get("conn"), None);
        assert_eq!((cache.entry_count(), cache.bytes()), (0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn entries_are_removed_by_value() {
        let cache = TtlCache::new(Duration::from_secs(30), no_heap);
        cache.insert("loc-a".to_owned(), Some("acme".to_owned()));
        cache.insert("loc-b".to_owned(), Some("beta".to_owned()));

        cache.remove_values(|v| v.as_deref() == Some("acme"));

        assert_eq!(cache.get("loc-a"), None);
        assert_eq!(cache.get("loc-b"), Some(Some("beta".to_owned())));
        assert_eq!(cache.entry_count(), 1);
    }

    #[tokio::test(start_paused = true)]
    async fn long_keys_never_hold_more_than_the_byte_budget() {
        let cache = TtlCache::bounded(Duration::from_secs(30), no_heap, 1_000, 64 * 1024);

        for i in 0..200 {
            cache.insert(format!("{i:0>4000}"), None);
            assert!(cache.bytes() <= 64 * 1024, "after {i}: {}", cache.bytes());
        }
        assert!(cache.entry_count() < 20);
    }

    #[tokio::test(start_paused = true)]
    async fn an_entry_larger_than_the_budget_is_not_kept() {
        let cache = TtlCache::bounded(Duration::from_secs(30), no_heap, 1_000, 1024);

        cache.insert("k".repeat(2048), None);

        assert_eq!((cache.entry_count(), cache.bytes()), (0, 0));
    }

    #[tokio::test(start_paused = true)]
    async fn expired_entries_make_room_before_live_ones_are_dropped() {
        let cache = TtlCache::bounded(Duration::from_secs(30), no_heap, 3, 1024 * 1024);
        cache.insert("old-1".to_owned(), None);
        cache.insert("old-2".to_owned(), None);
        tokio::time::advance(Duration::from_secs(20)).await;
        cache.insert("live".to_owned(), Some("c".to_owned()));
        tokio::time::advance(Duration::from_secs(15)).await;

        cache.insert("new".to_owned(), Some("d".to_owned()));

        assert_eq!(cache.entry_count(), 2);
        assert_eq!(cache.get("live"), Some(Some("c".to_owned())));
        assert_eq!(cache.get("new"), Some(Some("d".to_owned())));
    }
}
