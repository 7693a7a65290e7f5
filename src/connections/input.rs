//! What an operator sends to create or change a connection, and its validation.

use std::path::Path;
use std::sync::LazyLock;

use regex::Regex;

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
    #[serde(default, deserialize_with = "poller_object")]
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
    #[serde(default, deserialize_with = "maybe_poller_object")]
    pub poller: Option<PollerOverrides>,
}

/// The overrides as a JSON object only: serde would read the struct from an array too.
fn poller_object<'de, D: serde::Deserializer<'de>>(d: D) -> Result<PollerOverrides, D::Error> {
    let object = serde_json::Map::<String, serde_json::Value>::deserialize(d)?;
    serde_json::from_value(serde_json::Value::Object(object)).map_err(serde::de::Error::custom)
}

fn maybe_poller_object<'de, D: serde::Deserializer<'de>>(
    d: D,
) -> Result<Option<PollerOverrides>, D::Error> {
    let object = Option::<serde_json::Map<String, serde_json::Value>>::deserialize(d)?;
    object
        .map(|o| {
            serde_json::from_value(serde_json::Value::Object(o)).map_err(serde::de::Error::custom)
        })
        .transpose()
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

/// What a Tovuti base URL may look like: http(s), a host name (or IPv4 address), an
/// optional port and path; no credentials, query or fragment. `openapi.yaml` states the
/// same pattern, so a request its schema accepts is one this accepts.
pub const BASE_URL_PATTERN: &str = concat!(
    r"^https?://(localhost|([A-Za-z0-9]+(-[A-Za-z0-9]+)*\.)+[A-Za-z]{2,63}",
    r"|(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])(\.(25[0-5]|2[0-4][0-9]|1[0-9]{2}|[1-9]?[0-9])){3})",
    r"(:(6553[0-5]|655[0-2][0-9]|65[0-4][0-9]{2}|6[0-4][0-9]{3}|[1-5][0-9]{4}|[1-9][0-9]{0,3}))?(/[A-Za-z0-9._~/-]*)?$"
);

/// What a token may look like: visible ASCII, as an HTTP header value carries it.
pub const TOKEN_PATTERN: &str = "^[!-~]{1,4096}$";

/// Longest poller interval: a year.
pub const MAX_INTERVAL_SECS: u64 = 365 * 24 * 3600;

fn matches(pattern: &'static LazyLock<Regex>, text: &str) -> bool {
    pattern.is_match(text)
}

static BASE_URL: LazyLock<Regex> = LazyLock::new(|| {
    Regex::new(BASE_URL_PATTERN).unwrap_or_else(|_| unreachable!("a fixed pattern"))
});
static TOKEN: LazyLock<Regex> =
    LazyLock::new(|| Regex::new(TOKEN_PATTERN).unwrap_or_else(|_| unreachable!("a fixed pattern")));

/// An absolute http(s) URL with a host and no credentials in it.
pub fn validate_base_url(text: &str) -> ConnectionResult<()> {
    if !matches(&BASE_URL, text) {
        return Err(invalid(
            "tovuti_base_url: an http(s) URL of a host name or IPv4 address, with an optional port and path",
        ));
    }
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

/// A token must be non-empty and usable in a header: visible ASCII, no spaces.
pub fn validate_token(field: &str, token: &SecretString) -> ConnectionResult<()> {
    if !matches(&TOKEN, token.expose_secret()) {
        return Err(invalid(format!(
            "{field}: 1 to 4096 visible ASCII characters (no spaces)"
        )));
    }
    Ok(())
}

/// The file must exist and validate as a mapping; the first problems are named.
/// A file the service cannot use is a matter of its disk, not of the request's form.
pub fn validate_mapping(path: &str) -> ConnectionResult<()> {
    let unusable = |e: String| ConnectionError::Unusable(format!("mapping_path: {e}"));
    let (name, text) = read_source(Some(Path::new(path))).map_err(unusable)?;
    load(&name, &text).map_err(|e| unusable(e.to_string()))?;
    Ok(())
}

pub fn validate_poller(poller: &PollerOverrides) -> ConnectionResult<()> {
    let intervals = [
        poller.users_interval_secs,
        poller.progress_interval_secs,
        poller.awards_interval_secs,
    ];
    if intervals
        .into_iter()
        .flatten()
        .any(|secs| secs == 0 || secs > MAX_INTERVAL_SECS)
    {
        return Err(invalid(
            "poller: intervals from 1 second to a year (31536000)",
        ));
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
        let listed = r#"{"id":"acme","ghl_location_id":"loc","poller":[null,null]}"#;
        assert!(serde_json::from_str::<ConnectionInput>(listed).is_err());
        assert!(serde_json::from_str::<ConnectionPatch>(r#"{"poller":[1]}"#).is_err());
        assert!(serde_json::from_str::<ConnectionPatch>(r#"{"poller":null}"#).is_ok());
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

    #[test]
    fn the_api_document_states_the_same_patterns() {
        let document = include_str!("../../openapi.yaml");
        for pattern in [BASE_URL_PATTERN, TOKEN_PATTERN] {
            assert!(document.contains(pattern), "openapi.yaml lacks {pattern}");
        }
        assert!(document.contains(&format!("maximum: {MAX_INTERVAL_SECS}")));
    }

    #[test]
    fn base_urls_take_any_port_and_no_query() {
        for good in [
            "http://127.0.0.1:38251",
            "https://a.tovuti.io:65535/api/v1",
            "http://localhost",
        ] {
            assert!(validate_base_url(good).is_ok(), "{good}");
        }
        for bad in [
            "http://a.io:65536",
            "http://a.io/?x=1",
            "HTTP://a.io",
            "http://a.io\n",
            "http://999.1.1.1",
        ] {
            assert!(validate_base_url(bad).is_err(), "{bad}");
        }
    }
}
