//! Secret-holding configuration values whose `Debug`, `Display` and `Serialize`
//! never show the secret.

use std::fmt;

use secrecy::{ExposeSecret, SecretString};
use serde::{Deserialize, Deserializer, Serialize, Serializer};

/// What a redacted secret renders as.
const REDACTED: &str = "[redacted]";

/// A secret that may be unset; an empty string in configuration means unset.
#[derive(Clone, Default)]
pub struct OptionalSecret(Option<SecretString>);

impl OptionalSecret {
    /// A set secret (tests and tools build these directly).
    pub fn new(value: impl Into<String>) -> Self {
        let value = value.into();
        Self((!value.is_empty()).then(|| SecretString::from(value)))
    }

    /// The secret value, for the one place that needs it.
    pub fn expose(&self) -> Option<&str> {
        self.0.as_ref().map(|s| s.expose_secret())
    }

    pub fn is_set(&self) -> bool {
        self.0.is_some()
    }
}

impl fmt::Debug for OptionalSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(if self.is_set() { REDACTED } else { "unset" })
    }
}

impl Serialize for OptionalSecret {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(if self.is_set() { REDACTED } else { "" })
    }
}

impl<'de> Deserialize<'de> for OptionalSecret {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_string(d).map(Self::new)
    }
}

/// A database URL whose password is never shown.
#[derive(Clone)]
pub struct DatabaseUrl(SecretString);

impl DatabaseUrl {
    pub fn new(url: impl Into<String>) -> Self {
        Self(SecretString::from(url.into()))
    }

    /// The full URL, password included, for connecting.
    pub fn expose(&self) -> &str {
        self.0.expose_secret()
    }

    /// The URL with any password replaced, safe to log or print.
    pub fn redacted(&self) -> String {
        match url::Url::parse(self.expose()) {
            Ok(mut url) if url.password().is_some() => {
                // set_password only fails for URLs that cannot have one, and this one has one.
                let _ = url.set_password(Some("***"));
                url.to_string()
            }
            Ok(_) => self.expose().to_owned(),
            Err(_) => "[unparseable url]".to_owned(),
        }
    }
}

impl fmt::Debug for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl fmt::Display for DatabaseUrl {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str(&self.redacted())
    }
}

impl Serialize for DatabaseUrl {
    fn serialize<S: Serializer>(&self, s: S) -> Result<S::Ok, S::Error> {
        s.serialize_str(&self.redacted())
    }
}

impl<'de> Deserialize<'de> for DatabaseUrl {
    fn deserialize<D: Deserializer<'de>>(d: D) -> Result<Self, D::Error> {
        lenient_string(d).map(Self::new)
    }
}

/// Environment variables arrive as text that figment parses as numbers or booleans
/// where it can; a token made of digits must still read as a string.
pub(crate) fn lenient_string<'de, D: Deserializer<'de>>(d: D) -> Result<String, D::Error> {
    #[derive(Deserialize)]
    #[serde(untagged)]
    enum Scalar {
        Text(String),
        Int(i64),
        Uint(u64),
        Float(f64),
        Bool(bool),
    }
    Ok(match Scalar::deserialize(d)? {
        Scalar::Text(s) => s,
        Scalar::Int(n) => n.to_string(),
        Scalar::Uint(n) => n.to_string(),
        Scalar::Float(n) => n.to_string(),
        Scalar::Bool(b) => b.to_string(),
    })
}

/// The tokens of a setting that holds several (admin tokens while rotating): separated by
/// spaces or commas.
pub fn split_tokens(text: &str) -> impl Iterator<Item = &str> {
    text.split(|c: char| c.is_whitespace() || c == ',')
        .filter(|t| !t.is_empty())
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn secrets_never_show_in_debug_or_serialization() {
        let secret = OptionalSecret::new("hunter2-token");
        assert_eq!(format!("{secret:?}"), "[redacted]");
        assert_eq!(serde_json::to_string(&secret).unwrap(), "\"[redacted]\"");
        assert_eq!(secret.expose(), Some("hunter2-token"));
    }

    #[test]
    fn an_empty_secret_is_unset() {
        assert!(!OptionalSecret::new("").is_set());
    }

    #[test]
    fn database_url_password_is_redacted() {
        let url = DatabaseUrl::new("postgres://bridge:s3cr3t@db:5432/bridge");
        for shown in [format!("{url:?}"), url.to_string(), url.redacted()] {
            assert!(!shown.contains("s3cr3t"), "{shown}");
            assert!(shown.contains("bridge:***@db"), "{shown}");
        }
        assert_eq!(
            DatabaseUrl::new("sqlite://data/bridge.db").redacted(),
            "sqlite://data/bridge.db"
        );
    }
}
