//! One refresh at a time per cached list. The engine's caches (GHL custom fields and
//! automations per location, Tovuti catalog lists per tenant) are read on a miss; with
//! many events in flight, every event that found the cache cold read the list itself, so
//! a worker starting on a backlog spent one GHL request per slot on the same list. The
//! first event now reads it while the others wait, then find it fresh.

use std::collections::HashMap;
use std::hash::Hash;
use std::sync::{Arc, Mutex};

/// A lock per key, held while that key's list is read.
pub struct RefreshGate<K> {
    locks: Mutex<HashMap<K, Arc<tokio::sync::Mutex<()>>>>,
}

impl<K> Default for RefreshGate<K> {
    fn default() -> Self {
        Self {
            locks: Mutex::new(HashMap::new()),
        }
    }
}

impl<K: Eq + Hash + Clone> RefreshGate<K> {
    /// Waits for `key`'s turn. The caller checks again whether the list still needs
    /// reading once it has the turn: whoever held it before may have read it.
    pub async fn turn(&self, key: &K) -> tokio::sync::OwnedMutexGuard<()> {
        let lock = {
            let mut locks = self.locks.lock().unwrap_or_else(|e| e.into_inner());
            Arc::clone(locks.entry(key.clone()).or_default())
        };
        lock.lock_owned().await
    }
}

#[cfg(test)]
mod tests {
    use std::sync::atomic::{AtomicUsize, Ordering};

    use super::*;

    /// A cache read on a miss, as the engine's are.
    #[derive(Default)]
    struct Cache {
        gate: RefreshGate<&'static str>,
        value: Mutex<Option<u32>>,
        reads: AtomicUsize,
    }

    impl Cache {
        async fn get(&self) -> u32 {
            if self.value.lock().unwrap().is_none() {
                let _turn = self.gate.turn(&"location").await;
                if self.value.lock().unwrap().is_none() {
                    self.reads.fetch_add(1, Ordering::SeqCst);
                    tokio::task::yield_now().await;
                    *self.value.lock().unwrap() = Some(7);
                }
            }
            self.value.lock().unwrap().unwrap_or_default()
        }
    }

    #[tokio::test]
    async fn many_callers_on_a_cold_cache_read_it_once() {
        let cache = Cache::default();
        let values = futures::future::join_all((0..64).map(|_| cache.get())).await;
        assert!(values.iter().all(|v| *v == 7));
        assert_eq!(cache.reads.load(Ordering::SeqCst), 1);
    }
}
