//! The fake's contacts by id, with the email and phone indexes its duplicate look-up needs:
//! GHL finds a duplicate without walking the location, and benchmarks keep 100,000
//! contacts here, so a walk per upsert would make the fake the thing measured.

use std::collections::{BTreeMap, BTreeSet, HashMap};

use serde_json::Value;

/// `(location, value)` → the ids of the contacts carrying it, in id order.
type Index = HashMap<(String, String), BTreeSet<String>>;

#[derive(Default)]
pub struct ContactTable {
    by_id: BTreeMap<String, Value>,
    /// By `emailLowerCase`.
    by_email: Index,
    by_phone: Index,
}

impl ContactTable {
    pub fn get(&self, id: &str) -> Option<&Value> {
        self.by_id.get(id)
    }

    /// Every contact, in id order.
    pub fn values(&self) -> impl Iterator<Item = &Value> {
        self.by_id.values()
    }

    pub fn insert(&mut self, id: String, contact: Value) {
        if let Some(old) = self.by_id.remove(&id) {
            self.unindex(&id, &old);
        }
        self.index(&id, &contact);
        self.by_id.insert(id, contact);
    }

    pub fn remove(&mut self, id: &str) -> Option<Value> {
        let old = self.by_id.remove(id)?;
        self.unindex(id, &old);
        Some(old)
    }

    /// Changes every contact in place; the indexes are rebuilt after, whatever changed.
    pub fn update_all(&mut self, mut change: impl FnMut(&mut Value)) {
        self.by_id.values_mut().for_each(&mut change);
        self.by_email.clear();
        self.by_phone.clear();
        let by_id = std::mem::take(&mut self.by_id);
        for (id, contact) in &by_id {
            self.index(id, contact);
        }
        self.by_id = by_id;
    }

    /// The first contact of the location, in id order, whose lower-case email or whose
    /// phone is the one given, and which of the two matched (email first, as GHL reports).
    pub fn duplicate_of(
        &self,
        location: &str,
        email: Option<&str>,
        phone: Option<&str>,
    ) -> Option<(&str, &'static str)> {
        let first = |index: &Index, value: Option<&str>| {
            let key = (location.to_owned(), value?.to_owned());
            index.get(&key)?.first().cloned()
        };
        let by_email = first(&self.by_email, email).map(|id| (id, "email"));
        let by_phone = first(&self.by_phone, phone).map(|id| (id, "phone"));
        let (id, by) = match (by_email, by_phone) {
            (Some(e), Some(p)) if p.0 < e.0 => p,
            (Some(e), _) => e,
            (None, p) => p?,
        };
        let (id, _) = self.by_id.get_key_value(&id)?;
        Some((id.as_str(), by))
    }

    fn index(&mut self, id: &str, contact: &Value) {
        for (index, key) in self.keys(contact) {
            index.entry(key).or_default().insert(id.to_owned());
        }
    }

    fn unindex(&mut self, id: &str, contact: &Value) {
        for (index, key) in self.keys(contact) {
            if let Some(ids) = index.get_mut(&key) {
                ids.remove(id);
                if ids.is_empty() {
                    index.remove(&key);
                }
            }
        }
    }

    /// The index entries `contact` has: at most one by email and one by phone.
    fn keys(&mut self, contact: &Value) -> Vec<(&mut Index, (String, String))> {
        let text = |field: &str| contact.get(field).and_then(Value::as_str);
        let Some(location) = text("locationId") else {
            return Vec::new();
        };
        let mut keys = Vec::with_capacity(2);
        let (by_email, by_phone) = (&mut self.by_email, &mut self.by_phone);
        if let Some(email) = text("emailLowerCase") {
            keys.push((by_email, (location.to_owned(), email.to_owned())));
        }
        if let Some(phone) = text("phone") {
            keys.push((by_phone, (location.to_owned(), phone.to_owned())));
        }
        keys
    }
}

#[cfg(test)]
mod tests {
    use serde_json::json;

    use super::ContactTable;

    fn contact(location: &str, email: &str, phone: &str) -> serde_json::Value {
        json!({ "locationId": location, "emailLowerCase": email, "phone": phone })
    }

    #[test]
    fn the_first_match_in_id_order_wins_and_email_is_named_first() {
        let mut t = ContactTable::default();
        t.insert("c2".into(), contact("loc", "a@x.test", "+1"));
        t.insert("c1".into(), contact("loc", "b@x.test", "+1"));
        t.insert("c3".into(), contact("other", "a@x.test", "+2"));
        // By phone c1 comes first, by id; c2 matches by email, later in id order.
        assert_eq!(
            t.duplicate_of("loc", Some("a@x.test"), Some("+1")),
            Some(("c1", "phone"))
        );
        assert_eq!(
            t.duplicate_of("loc", Some("a@x.test"), None),
            Some(("c2", "email"))
        );
        assert_eq!(
            t.duplicate_of("loc", Some("b@x.test"), Some("+1")),
            Some(("c1", "email"))
        );
        assert_eq!(t.duplicate_of("other", None, Some("+1")), None);
        assert_eq!(t.duplicate_of("loc", None, None), None);
    }

    #[test]
    fn updates_and_removals_move_the_indexes_with_the_contact() {
        let mut t = ContactTable::default();
        t.insert("c1".into(), contact("loc", "old@x.test", "+1"));
        t.insert("c1".into(), contact("loc", "new@x.test", "+1"));
        assert_eq!(t.duplicate_of("loc", Some("old@x.test"), None), None);
        assert_eq!(
            t.duplicate_of("loc", Some("new@x.test"), None),
            Some(("c1", "email"))
        );
        t.update_all(|c| c["phone"] = json!("+9"));
        assert_eq!(t.duplicate_of("loc", None, Some("+1")), None);
        assert_eq!(
            t.duplicate_of("loc", None, Some("+9")),
            Some(("c1", "phone"))
        );
        assert!(t.remove("c1").is_some());
        assert_eq!(t.duplicate_of("loc", Some("new@x.test"), Some("+9")), None);
        assert_eq!(t.values().count(), 0);
    }
}
