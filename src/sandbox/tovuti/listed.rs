//! A sorted map that also answers "the items of page N" without walking the items
//! before it: the fake serves tenants of 100,000 users page by page, and skipping
//! through a `BTreeMap` for every page would make one scan quadratic.

use std::collections::BTreeMap;
use std::ops::Deref;

/// A `BTreeMap` (read through `Deref`) whose key order is kept in a vector, rebuilt
/// lazily after a key is added or removed; changing a value keeps it.
pub struct Listed<K, V> {
    map: BTreeMap<K, V>,
    order: Option<Vec<K>>,
}

impl<K, V> Default for Listed<K, V> {
    fn default() -> Self {
        Self {
            map: BTreeMap::new(),
            order: None,
        }
    }
}

impl<K, V> Deref for Listed<K, V> {
    type Target = BTreeMap<K, V>;

    fn deref(&self) -> &Self::Target {
        &self.map
    }
}

impl<K: Ord + Clone, V> Listed<K, V> {
    pub fn insert(&mut self, key: K, value: V) -> Option<V> {
        let old = self.map.insert(key, value);
        if old.is_none() {
            self.order = None;
        }
        old
    }

    pub fn get_mut(&mut self, key: &K) -> Option<&mut V> {
        self.map.get_mut(key)
    }

    /// The `size` entries from position `start`, in key order.
    pub fn window(&mut self, start: usize, size: usize) -> Vec<(&K, &V)> {
        let map = &self.map;
        let order = self
            .order
            .get_or_insert_with(|| map.keys().cloned().collect());
        order
            .iter()
            .skip(start)
            .take(size)
            .filter_map(|key| map.get_key_value(key))
            .collect()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn windows_follow_key_order_across_inserts() {
        let mut listed = Listed::default();
        for key in [5, 1, 3] {
            listed.insert(key, key * 10);
        }
        assert_eq!(listed.window(1, 5), [(&3, &30), (&5, &50)]);
        listed.insert(2, 20);
        assert_eq!(listed.window(0, 2), [(&1, &10), (&2, &20)]);
        if let Some(value) = listed.get_mut(&2) {
            *value = 21;
        }
        assert_eq!(listed.window(1, 1), [(&2, &21)]);
        assert!(listed.window(9, 2).is_empty());
        assert_eq!(listed.len(), 4);
    }
}
