//! Verification of Tovuti webhooks under the service's own contract (`docs/tovuti-webhooks.md`).
//!
//! Tovuti publishes no webhook scheme, so the service adopts Standard
//! Webhooks: `webhook-id`, `webhook-timestamp` and `webhook-signature` carrying one or more
//! `v1,<base64 HMAC-SHA256 of "{id}.{timestamp}.{body}">`. A connection may also opt in to a
//! simpler `X-Signature: sha256=<hex HMAC-SHA256 of body>` for senders that cannot do more, or
//! (explicitly, with a startup warning) accept unsigned deliveries.

use std::fmt;
use std::time::Duration;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use hmac::{Hmac, Mac as _};
use http::HeaderMap;
use jiff::Timestamp;
use rand::RngCore as _;
use sha2::{Digest as _, Sha256};

use super::events::{ParseError, TovutiMeta};
use crate::platforms::{KeyError, Verified, VerifyError};

pub const ID_HEADER: &str = "webhook-id";
pub const TIMESTAMP_HEADER: &str = "webhook-timestamp";
pub const SIGNATURE_HEADER: &str = "webhook-signature";
pub const SIMPLE_HEADER: &str = "x-signature";

/// Secrets shorter than this are refused: they could be guessed offline from one delivery.
const MIN_SECRET_BYTES: usize = 16;

/// Bytes of a generated signing secret (Standard Webhooks accepts 24 to 64).
const GENERATED_SECRET_BYTES: usize = 32;

/// A fresh Standard Webhooks secret from the operating system's random source:
/// `whsec_` and the base64 of 32 random bytes.
pub fn webhook_secret() -> String {
    let mut bytes = [0u8; GENERATED_SECRET_BYTES];
    rand::rngs::OsRng.fill_bytes(&mut bytes);
    format!("whsec_{}", STANDARD.encode(bytes))
}

/// A `whsec_<base64>` secret, kept as a keyed HMAC so each request only clones it.
#[derive(Clone)]
pub struct WebhookSecret {
    mac: Hmac<Sha256>,
}

impl fmt::Debug for WebhookSecret {
    fn fmt(&self, f: &mut fmt::Formatter<'_>) -> fmt::Result {
        f.write_str("WebhookSecret([redacted])")
    }
}

impl WebhookSecret {
    /// The HMAC key is the base64-decoded part after the `whsec_` prefix (the prefix is
    /// optional here, as in the Standard Webhooks libraries).
    pub fn parse(text: &str) -> Result<Self, KeyError> {
        const WHAT: &str = "Tovuti webhook secret";
        let text = text.trim();
        let encoded = text.strip_prefix("whsec_").unwrap_or(text);
        let key = STANDARD
            .decode(encoded)
            .map_err(|_| KeyError::Encoding { what: WHAT })?;
        if key.len() < MIN_SECRET_BYTES {
            let reason = format!("shorter than {MIN_SECRET_BYTES} bytes");
            return Err(KeyError::Invalid { what: WHAT, reason });
        }
        let mac = Hmac::new_from_slice(&key).map_err(|e| KeyError::Invalid {
            what: WHAT,
            reason: e.to_string(),
        })?;
        Ok(Self { mac })
    }

    /// The `webhook-signature` value a sender puts on a delivery (one `v1,` signature), for
    /// `send-test-event`, tests and the benchmark.
    pub fn sign(&self, id: &str, timestamp: i64, body: &[u8]) -> String {
        let mut mac = self.mac.clone();
        for part in [
            id.as_bytes(),
            b".",
            timestamp.to_string().as_bytes(),
            b".",
            body,
        ] {
            mac.update(part);
        }
        format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
    }

    /// The `X-Signature` value of the simple scheme.
    pub fn sign_simple(&self, body: &[u8]) -> String {
        let mut mac = self.mac.clone();
        mac.update(body);
        format!("sha256={}", hex::encode(mac.finalize().into_bytes()))
    }
}

/// How a delivery was authenticated.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum TovutiScheme {
    StandardWebhooks,
    SimpleHmac,
    Unsigned,
}

/// A Tovuti delivery that passed verification.
#[derive(Debug)]
pub struct TovutiDelivery {
    pub body: Bytes,
    /// `webhook-id`; for simple and unsigned senders without it, the envelope `id`, else the
    /// body's SHA-256 hex.
    pub dedupe_key: String,
    pub scheme: TovutiScheme,
    pub meta: Result<TovutiMeta, ParseError>,
}

/// How one connection's deliveries are checked.
#[derive(Debug, Clone, Copy, PartialEq, Eq, Default)]
pub struct AcceptPolicy {
    /// Also accept `X-Signature: sha256=<hex>` (no timestamp, so no replay window).
    pub simple_signature: bool,
    /// Accept deliveries with no signature at all. Only for trusted networks.
    pub unsigned: bool,
}

/// The secrets and policy of one Tovuti connection; built once at startup.
#[derive(Debug, Clone)]
pub struct TovutiVerifier {
    secrets: Vec<WebhookSecret>,
    policy: AcceptPolicy,
    tolerance: Duration,
}

impl TovutiVerifier {
    /// Several secrets may be given during a rotation: a signature by any of them passes.
    pub fn new(secrets: Vec<WebhookSecret>, policy: AcceptPolicy, tolerance: Duration) -> Self {
        Self {
            secrets,
            policy,
            tolerance,
        }
    }

    pub fn policy(&self) -> AcceptPolicy {
        self.policy
    }

    /// A signature header that is present decides, whatever the policy allows besides.
    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: Bytes,
        now: Timestamp,
    ) -> Result<Verified<TovutiDelivery>, VerifyError> {
        let scheme = if let Some(signatures) = header(headers, SIGNATURE_HEADER)? {
            self.check_standard(headers, signatures, &body, now)?;
            TovutiScheme::StandardWebhooks
        } else if let Some(signature) =
            header(headers, SIMPLE_HEADER)?.filter(|_| self.policy.simple_signature)
        {
            self.check_simple(signature, &body)?;
            TovutiScheme::SimpleHmac
        } else if self.policy.unsigned {
            TovutiScheme::Unsigned
        } else {
            return Err(VerifyError::MissingHeader(SIGNATURE_HEADER));
        };
        let meta = TovutiMeta::peek(&body);
        let dedupe_key = match (header(headers, ID_HEADER)?, &meta) {
            (Some(id), _) => id.to_owned(),
            (None, Ok(TovutiMeta { id: Some(id), .. })) if !id.is_empty() => id.clone(),
            (None, _) => hex::encode(Sha256::digest(&body)),
        };
        Ok(Verified::new(TovutiDelivery {
            body,
            dedupe_key,
            scheme,
            meta,
        }))
    }

    /// Signature first, then freshness: a stale timestamp only means something once the
    /// signature shows it was not forged.
    fn check_standard(
        &self,
        headers: &HeaderMap,
        signatures: &str,
        body: &[u8],
        now: Timestamp,
    ) -> Result<(), VerifyError> {
        let id = header(headers, ID_HEADER)?.ok_or(VerifyError::MissingHeader(ID_HEADER))?;
        let sent = header(headers, TIMESTAMP_HEADER)?
            .ok_or(VerifyError::MissingHeader(TIMESTAMP_HEADER))?;
        let sent_secs: i64 = sent
            .parse()
            .map_err(|_| VerifyError::Malformed(TIMESTAMP_HEADER))?;
        let candidates: Vec<Vec<u8>> = signatures
            .split_whitespace()
            .filter_map(|s| s.strip_prefix("v1,"))
            .filter_map(|b64| STANDARD.decode(b64).ok())
            .collect();
        if candidates.is_empty() {
            return Err(VerifyError::Malformed(SIGNATURE_HEADER));
        }
        let signed = |secret: &WebhookSecret| {
            let mut mac = secret.mac.clone();
            for part in [id.as_bytes(), b".", sent.as_bytes(), b".", body] {
                mac.update(part);
            }
            mac
        };
        let genuine = self.secrets.iter().map(signed).any(|mac| {
            candidates
                .iter()
                .any(|candidate| mac.clone().verify_slice(candidate).is_ok())
        });
        if !genuine {
            return Err(VerifyError::Mismatch);
        }
        if now.as_second().abs_diff(sent_secs) > self.tolerance.as_secs() {
            return Err(VerifyError::Stale);
        }
        Ok(())
    }

    fn check_simple(&self, signature: &str, body: &[u8]) -> Result<(), VerifyError> {
        let hex_digest = signature
            .strip_prefix("sha256=")
            .ok_or(VerifyError::Malformed(SIMPLE_HEADER))?;
        let digest = hex::decode(hex_digest).map_err(|_| VerifyError::Malformed(SIMPLE_HEADER))?;
        let genuine = self.secrets.iter().any(|secret| {
            let mut mac = secret.mac.clone();
            mac.update(body);
            mac.verify_slice(&digest).is_ok()
        });
        if genuine {
            Ok(())
        } else {
            Err(VerifyError::Mismatch)
        }
    }
}

/// A header as text; an empty value counts as absent.
fn header<'h>(headers: &'h HeaderMap, name: &'static str) -> Result<Option<&'h str>, VerifyError> {
    match headers.get(name) {
        None => Ok(None),
        Some(value) => {
            let text = value
                .to_str()
                .map_err(|_| VerifyError::Malformed(name))?
                .trim();
            Ok(Some(text).filter(|t| !t.is_empty()))
        }
    }
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
