//! Fingerprints of the mapped state, for echo suppression: the same state hashes the same
//! whichever platform it was read from, because it is hashed in its canonical form.

use sha2::{Digest, Sha256};

use super::fields::Canonical;

/// Hex SHA-256 of the canonical state as JSON (a `BTreeMap`, so keys are sorted).
pub fn fingerprint(state: &Canonical) -> String {
    let bytes = serde_json::to_vec(state).unwrap_or_default();
    hex::encode(Sha256::digest(&bytes))
}

#[cfg(test)]
mod tests {
    use super::*;
    use serde_json::json;

    #[test]
    fn key_order_does_not_change_the_fingerprint() {
        let mut a = Canonical::new();
        a.insert("b".to_owned(), json!(1));
        a.insert("a".to_owned(), json!("x"));
        let mut b = Canonical::new();
        b.insert("a".to_owned(), json!("x"));
        b.insert("b".to_owned(), json!(1));
        assert_eq!(fingerprint(&a), fingerprint(&b));
        b.insert("b".to_owned(), json!(2));
        assert_ne!(fingerprint(&a), fingerprint(&b));
    }
}
