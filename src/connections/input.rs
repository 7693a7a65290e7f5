//! What an operator sends to create or change a connection, and its validation.

use std::path::Path;

use secrecy::{ExposeSecret as _, SecretString};
use serde::Deserialize;

use super::error::{ConnectionError, ConnectionResult};
use crate::mapping::file::read_source;
use crate::mapping::validate::load;
use crate::store::{PollerOverrides, TovutiAuthMode};

/// A new connection. Tokens are stored encrypted and never shown again.
#[derive(Debug, Clone, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionInput {
    /// `^[a-z0-9][a-z0-9-]{0,62}$`; names the webhook URL `/webhooks/tovuti/{id}`.
    pub id: String,
    #[serde(default)]
    pub name: Option<String>,
    pub ghl_location_id: String,
    /// A Private Integration Token; without one the connection needs an OAuth install.
    #[serde(default)]
    pub ghl_token: Option<SecretString>,
    #[serde(default)]
    pub tovuti_base_url: Option<String>,
    #[serde(default)]
    pub tovuti_token: Option<SecretString>,
    #[serde(default)]
    pub tovuti_auth_mode: TovutiAuthMode,
    /// A mapping file for this connection; validated when given.
    #[serde(default)]
    pub mapping_path: Option<String>,
    #[serde(default)]
    pub poller: PollerOverrides,
}

/// A change to a connection: absent fields stay. An empty string clears `name`,
/// `tovuti_base_url` and `mapping_path`.
#[derive(Debug, Clone, Default, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct ConnectionPatch {
    #[serde(default)]
    pub name: Option<String>,
    #[serde(default)]
    pub ghl_location_id: Option<String>,
    #[serde(default)]
    pub ghl_token: Option<SecretString>,
    #[serde(default)]
    pub tovuti_base_url: Option<String>,
    #[serde(default)]
    pub tovuti_token: Option<SecretString>,
    #[serde(default)]
    pub tovuti_auth_mode: Option<TovutiAuthMode>,
    #[serde(default)]
    pub mapping_path: Option<String>,
    #[serde(default)]
    pub poller: Option<PollerOverrides>,
}

/// Longest id: the pattern allows 63 characters.
const MAX_ID: usize = 63;
/// Longest display name.
const MAX_NAME: usize = 200;
/// GHL location ids are about 20 characters; leave room.
const MAX_LOCATION: usize = 64;

fn invalid(text: impl Into<String>) -> ConnectionError {
    ConnectionError::Invalid(text.into())
}

/// `^[a-z0-9][a-z0-9-]{0,62}$`.
pub fn validate_id(id: &str) -> ConnectionResult<()> {
    let bytes = id.as_bytes();
    let ok = !bytes.is_empty()
        && bytes.len() <= MAX_ID
        && bytes
            .first()
            .is_some_and(|b| b.is_ascii_lowercase() || b.is_ascii_digit())
        && bytes
            .iter()
            .all(|b| b.is_ascii_lowercase() || b.is_ascii_digit() || *b == b'-');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "id: 1 to 63 lowercase letters, digits and '-', starting with a letter or digit",
        ))
    }
}

pub fn validate_name(name: &str) -> ConnectionResult<()> {
    if name.chars().count() > MAX_NAME || name.chars().any(char::is_control) {
        return Err(invalid(format!(
            "name: at most {MAX_NAME} characters, no control characters"
        )));
    }
    Ok(())
}

pub fn validate_location(location: &str) -> ConnectionResult<()> {
    let ok = !location.is_empty()
        && location.len() <= MAX_LOCATION
        && location
            .bytes()
            .all(|b| b.is_ascii_alphanumeric() || b == b'-' || b == b'_');
    if ok {
        Ok(())
    } else {
        Err(invalid(
            "ghl_location_id: letters, digits, '-' and '_' (at most 64)",
        ))
    }
}

/// An absolute http(s) URL with a host and no credentials in it.
pub fn validate_base_url(text: &str) -> ConnectionResult<()> {
    let url = url::Url::parse(text).map_err(|_| invalid("tovuti_base_url: not a URL"))?;
    if !matches!(url.scheme(), "http" | "https") || url.host_str().is_none() {
        return Err(invalid(
            "tovuti_base_url: must be an http(s) URL with a host",
        ));
    }
    if !url.username().is_empty() || url.password().is_some() {
        return Err(invalid(
            "tovuti_base_url: must not carry credentials; use tovuti_token",
        ));
    }
    Ok(())
}

/// A token must be non-empty and usable in a header.
pub fn validate_token(field: &str, token: &SecretString) -> ConnectionResult<()> {
    let text = token.expose_secret();
    if text.trim().is_empty() || text.bytes().any(|b| b.is_ascii_control()) {
        return Err(invalid(format!(
            "{field}: must be non-empty, without control characters"
        )));
    }
    Ok(())
}

/// The file must exist and validate as a mapping; the first problems are named.
pub fn validate_mapping(path: &str) -> ConnectionResult<()> {
    let (name, text) =
        read_source(Some(Path::new(path))).map_err(|e| invalid(format!("mapping_path: {e}")))?;
    load(&name, &text).map_err(|e| invalid(format!("mapping_path: {e}")))?;
    Ok(())
}

pub fn validate_poller(poller: &PollerOverrides) -> ConnectionResult<()> {
    let intervals = [
        poller.users_interval_secs,
        poller.progress_interval_secs,
        poller.awards_interval_secs,
    ];
    if intervals.into_iter().flatten().any(|secs| secs == 0) {
        return Err(invalid("poller: intervals must be at least 1 second"));
    }
    // 0 means no limit, as `poller.requests_per_second` does.
    if poller
        .requests_per_second
        .is_some_and(|rate| !rate.is_finite() || rate < 0.0)
    {
        return Err(invalid(
            "poller.requests_per_second: a number of requests per second, 0 or more",
        ));
    }
    Ok(())
}

/// `Some("")` means "clear"; anything else stays as given.
pub fn cleared(value: Option<String>) -> Option<Option<String>> {
    value.map(|v| (!v.is_empty()).then_some(v))
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn inputs_refuse_unknown_fields_and_read_the_auth_mode() {
        let ok = r#"{"id":"acme","ghl_location_id":"loc","tovuti_auth_mode":"bearer"}"#;
        let input: ConnectionInput = serde_json::from_str(ok).unwrap();
        assert_eq!(input.tovuti_auth_mode, TovutiAuthMode::Bearer);

        let extra = r#"{"id":"acme","ghl_location_id":"loc","paused":true}"#;
        assert!(serde_json::from_str::<ConnectionInput>(extra).is_err());
        assert!(serde_json::from_str::<ConnectionPatch>(r#"{"status":"active"}"#).is_err());
        let mode = r#"{"tovuti_auth_mode":"basic"}"#;
        assert!(serde_json::from_str::<ConnectionPatch>(mode).is_err());
    }

    #[test]
    fn ids_follow_the_pattern() {
        for good in ["a", "acme-2", "0x", &"a".repeat(63)] {
            assert!(validate_id(good).is_ok(), "{good}");
        }
        for bad in ["", "-a", "A", "a_b", "a.b", &"a".repeat(64)] {
            assert!(validate_id(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn base_urls_are_http_with_a_host_and_no_credentials() {
        assert!(validate_base_url("https://t.example.com/api/v1").is_ok());
        assert!(validate_base_url("http://127.0.0.1:8080").is_ok());
        for bad in [
            "ftp://t.example.com",
            "t.example.com",
            "https://u:p@t.example.com",
        ] {
            assert!(validate_base_url(bad).is_err(), "{bad}");
        }
    }

    #[test]
    fn poller_overrides_need_positive_intervals_and_a_sane_request_rate() {
        let with = |json: &str| serde_json::from_str::<PollerOverrides>(json).unwrap();
        assert!(validate_poller(&with(r#"{"requests_per_second": 0.5}"#)).is_ok());
        assert!(validate_poller(&with(r#"{"requests_per_second": 0}"#)).is_ok());
        assert!(validate_poller(&with(r#"{"requests_per_second": -1}"#)).is_err());
        assert!(validate_poller(&with(r#"{"users_interval_secs": 0}"#)).is_err());
    }
}
