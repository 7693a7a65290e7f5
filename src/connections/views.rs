//! What the connection operations hand out, ready for JSON. No view carries a secret:
//! a credential shows only whether it is set and a short fingerprint.

use secrecy::{ExposeSecret as _, SecretString};
use serde::Serialize;
use sha2::{Digest as _, Sha256};

use crate::store::{Millis, PollerOverrides, TovutiAuthMode};

/// First 8 hex digits of the SHA-256 of a secret: enough to tell two secrets apart,
/// far too little to recover one.
pub fn fingerprint(secret: &SecretString) -> String {
    let digest = Sha256::digest(secret.expose_secret().as_bytes());
    hex::encode(&digest[..4])
}

/// A credential as shown: set or not, and which one.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct CredentialView {
    pub set: bool,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub fingerprint: Option<String>,
}

impl CredentialView {
    pub fn of(secret: Option<&SecretString>) -> Self {
        Self {
            set: secret.is_some(),
            fingerprint: secret.map(fingerprint),
        }
    }
}

/// How a connection authenticates to GHL.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Serialize)]
#[serde(rename_all = "snake_case")]
pub enum GhlAuth {
    /// A Private Integration Token.
    PrivateToken,
    /// Tokens from an OAuth install.
    Oauth,
    /// Neither yet.
    None,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct GhlView {
    pub location_id: Option<String>,
    pub auth: GhlAuth,
    /// The Private Integration Token.
    pub token: CredentialView,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct TovutiView {
    pub base_url: Option<String>,
    pub auth_mode: TovutiAuthMode,
    pub token: CredentialView,
    /// Where this connection's Tovuti webhooks are sent (path on the service's host).
    pub webhook_path: String,
    /// Webhook secrets that verify now (during a rotation, more than one).
    pub webhook_secrets: usize,
}

/// A connection as an operator sees it.
#[derive(Debug, Clone, PartialEq, Serialize)]
pub struct ConnectionView {
    pub id: String,
    pub name: Option<String>,
    /// `active`, `paused`, `needs_reauth` or `disconnected`.
    pub status: &'static str,
    #[serde(skip_serializing_if = "Option::is_none")]
    pub status_reason: Option<String>,
    /// Set by the configuration (`default`): change it there.
    pub read_only: bool,
    pub ghl: GhlView,
    pub tovuti: TovutiView,
    pub mapping_path: Option<String>,
    pub poller: PollerOverrides,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "maybe_instant"
    )]
    pub paused_at: Option<Millis>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "maybe_instant"
    )]
    pub created_at: Option<Millis>,
    #[serde(
        skip_serializing_if = "Option::is_none",
        serialize_with = "maybe_instant"
    )]
    pub updated_at: Option<Millis>,
}

/// A Tovuti webhook secret as shown: never the secret itself.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct SecretView {
    pub id: String,
    pub fingerprint: String,
    #[serde(serialize_with = "instant")]
    pub created_at: Millis,
    #[serde(serialize_with = "maybe_instant")]
    pub expires_at: Option<Millis>,
}

/// A freshly made webhook secret: the only time the secret is shown. Configure it in
/// the Tovuti tenant's webhook settings.
#[derive(Debug, Clone, Serialize)]
pub struct NewSecret {
    #[serde(flatten)]
    pub view: SecretView,
    #[serde(serialize_with = "expose")]
    pub secret: SecretString,
}

fn expose<S: serde::Serializer>(secret: &SecretString, s: S) -> Result<S::Ok, S::Error> {
    s.serialize_str(secret.expose_secret())
}

/// Instants as RFC 3339, as every admin answer shows them.
fn instant<S: serde::Serializer>(at: &Millis, s: S) -> Result<S::Ok, S::Error> {
    match jiff::Timestamp::from_millisecond(at.0) {
        Ok(t) => s.collect_str(&t),
        Err(_) => s.serialize_none(),
    }
}

#[expect(
    clippy::ref_option,
    reason = "serde's serialize_with hands over a reference to the field"
)]
fn maybe_instant<S: serde::Serializer>(at: &Option<Millis>, s: S) -> Result<S::Ok, S::Error> {
    match at {
        Some(at) => instant(at, s),
        None => s.serialize_none(),
    }
}
