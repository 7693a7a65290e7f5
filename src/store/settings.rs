//! What an operator sets on a connection beyond its pairing: name, Tovuti auth mode,
//! mapping, poller overrides, and its Tovuti webhook secrets.

use secrecy::SecretString;
use serde::{Deserialize, Serialize};

use super::Millis;

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
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub users_interval_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
    pub progress_interval_secs: Option<u64>,
    #[serde(default, skip_serializing_if = "Option::is_none")]
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
