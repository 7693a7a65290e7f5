//! What an operator sets on a connection beyond its pairing: name, Tovuti auth mode,
//! mapping, poller overrides, and its Tovuti webhook secrets.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::Millis;

/// The `status_reason` of a connection an operator removed (as opposed to one
/// disconnected by an uninstall, which can be installed again).
pub const REMOVED_REASON: &str = "removed by an operator";

/// How requests to a tenant's Tovuti API are authenticated. Only a bearer API key
/// exists today; the column leaves room for another scheme without a migration.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Hash, Default, Serialize, Deserialize)]
#[serde(rename_all = "snake_case")]
pub enum TovutiAuthMode {
    /// `Authorization: Bearer <API key>`.
    #[default]
    Bearer,
}

impl TovutiAuthMode {
    pub fn as_str(self) -> &'static str {
        match self {
            Self::Bearer => "bearer",
        }
    }

    pub fn parse(text: &str) -> Option<Self> {
        (text == "bearer").then_some(Self::Bearer)
    }
}

/// Per-connection overrides of the `poller.*` settings; an absent field keeps the
/// configured value.
#[derive(Debug, Clone, Default, PartialEq, Serialize, Deserialize)]
#[serde(deny_unknown_fields)]
pub struct PollerOverrides {
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub enabled: Option<bool>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_seconds"
    )]
    pub users_interval_secs: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_seconds"
    )]
    pub progress_interval_secs: Option<u64>,
    #[serde(
        default,
        skip_serializing_if = "Option::is_none",
        deserialize_with = "whole_seconds"
    )]
    pub awards_interval_secs: Option<u64>,
    /// The tenant's own request budget, for a tenant that allows more (or less) than
    /// `poller.requests_per_second`.
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub requests_per_second: Option<f64>,
}

/// A connection's settings as written by `insert_connection` / `update_connection`
/// (status and pause have their own methods).
#[derive(Debug, Clone, PartialEq)]
pub struct ConnectionRecord {
    pub id: String,
    pub name: Option<String>,
    pub ghl_location_id: Option<String>,
    pub tovuti_base_url: Option<String>,
    pub tovuti_auth_mode: TovutiAuthMode,
    pub mapping_path: Option<String>,
    pub poller: PollerOverrides,
}

/// A Tovuti webhook secret to store.
#[derive(Debug, Clone)]
pub struct NewWebhookSecret {
    pub id: String,
    pub secret: SecretString,
    pub fingerprint: String,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
}

/// A stored Tovuti webhook secret, decrypted.
#[derive(Debug, Clone)]
pub struct StoredWebhookSecret {
    pub id: String,
    pub secret: SecretString,
    pub fingerprint: String,
    pub created_at: Millis,
    pub expires_at: Option<Millis>,
}

impl StoredWebhookSecret {
    /// Whether the secret still verifies at `now`.
    pub fn is_live(&self, now: Millis) -> bool {
        self.expires_at.is_none_or(|at| at > now)
    }
}

/// A count of seconds, written as `600` or, as JSON allows for a whole number, `600.0`.
pub fn whole_seconds<'de, D: serde::Deserializer<'de>>(d: D) -> Result<Option<u64>, D::Error> {
    let Some(number) = Option::<serde_json::Number>::deserialize(d)? else {
        return Ok(None);
    };
    if let Some(n) = number.as_u64() {
        return Ok(Some(n));
    }
    match number.as_f64() {
        // Exact: a whole f64 below 2^64 converts without loss.
        Some(f) if f >= 0.0 && f.fract() == 0.0 && f < 18_446_744_073_709_551_616.0 =>
        {
            #[expect(
                clippy::cast_possible_truncation,
                clippy::cast_sign_loss,
                reason = "checked above: whole, non-negative and below 2^64"
            )]
            Ok(Some(f as u64))
        }
        _ => Err(serde::de::Error::custom(
            "expected a whole number of seconds",
        )),
    }
}
