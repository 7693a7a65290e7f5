//! A posted form (`application/x-www-form-urlencoded`), read by field name.

use sha2::{Digest as _, Sha256};

/// The name of the hidden field carrying the session's CSRF token.
pub const CSRF_FIELD: &str = "csrf";

/// The fields of one posted form, in order.
#[derive(Debug, Clone, Default)]
pub struct Form(Vec<(String, String)>);

impl Form {
    /// Decodes `body`; a body that does not decode is an empty form (which then lacks
    /// the CSRF token and is refused).
    pub fn parse(body: &[u8]) -> Self {
        Self(serde_urlencoded::from_bytes(body).unwrap_or_default())
    }

    /// The first value of `name`, trimmed; `None` when absent or blank.
    pub fn get(&self, name: &str) -> Option<&str> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim())
            .filter(|v| !v.is_empty())
    }

    /// The first value of `name` as sent, trimmed, blank included (a blank field clears).
    pub fn raw(&self, name: &str) -> Option<String> {
        self.0
            .iter()
            .find(|(n, _)| n == name)
            .map(|(_, v)| v.trim().to_owned())
    }

    /// Replaces every value of `name` with `value` (adds it when absent).
    pub fn set(&mut self, name: &str, value: &str) {
        self.0.retain(|(n, _)| n != name);
        self.0.push((name.to_owned(), value.to_owned()));
    }

    /// The first value of `name` as an owned string.
    pub fn text(&self, name: &str) -> Option<String> {
        self.get(name).map(str::to_owned)
    }

    /// Which of `names` the form filled, for an audit entry: what was set, never to what.
    pub fn present(&self, names: &[&str]) -> Vec<String> {
        names
            .iter()
            .filter(|name| self.get(name).is_some())
            .map(|name| (*name).to_owned())
            .collect()
    }

    /// Whether the form carries `expected` as its CSRF token. The comparison is of
    /// digests, so its time says nothing of how much of the token matched.
    pub fn csrf_matches(&self, expected: &str) -> bool {
        self.get(CSRF_FIELD).is_some_and(|given| {
            Sha256::digest(given.as_bytes()) == Sha256::digest(expected.as_bytes())
        })
    }

    /// The non-blank `name=value` pairs other than the CSRF token, as a query string.
    pub fn query(&self, names: &[&str]) -> String {
        let pairs: Vec<(&str, &str)> = self
            .0
            .iter()
            .filter(|(n, v)| names.contains(&n.as_str()) && !v.trim().is_empty())
            .map(|(n, v)| (n.as_str(), v.trim()))
            .collect();
        serde_urlencoded::to_string(pairs).unwrap_or_default()
    }
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn the_csrf_token_must_be_present_and_equal() {
        assert!(Form::parse(b"csrf=abc&x=1").csrf_matches("abc"));
        assert!(!Form::parse(b"csrf=abd").csrf_matches("abc"));
        assert!(!Form::parse(b"x=1").csrf_matches("abc"));
        assert!(!Form::parse(b"csrf=").csrf_matches(""));
    }
}
