//! Verification of GHL webhooks on the raw body: signature, freshness and the dedupe key.
//!
//! `X-GHL-Signature` (Ed25519) decides whenever it is present; the legacy `X-WH-Signature`
//! (RSA PKCS#1 v1.5, SHA-256) is consulted only when it is absent and the legacy check is on,
//! as GHL's SDK does. Falling back to RSA after a failed Ed25519 check would
//! let an attacker pick the weaker or older scheme.

use std::time::Duration;

use bytes::Bytes;
use ed25519_dalek::pkcs8::DecodePublicKey as _;
use http::HeaderMap;
use jiff::Timestamp;
use rsa::pkcs1::DecodeRsaPublicKey as _;
use rsa::signature::Verifier as _;
use sha2::{Digest as _, Sha256};

use super::events::{GhlMeta, ParseError};
use crate::platforms::keys::KeyText;
use crate::platforms::{KeyError, Verified, VerifyError};

pub const ED25519_HEADER: &str = "x-ghl-signature";
pub const RSA_HEADER: &str = "x-wh-signature";

/// GHL's published Ed25519 key for `X-GHL-Signature`, the default.
pub const GHL_ED25519_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MCowBQYDK2VwAyEAi2HR1srL4o18O8BRa7gVJY7G7bupbN3H9AwJrHCDiOg=
-----END PUBLIC KEY-----";

/// GHL's published 4096-bit RSA key for the legacy `X-WH-Signature`.
pub const GHL_RSA_PUBLIC_KEY: &str = "-----BEGIN PUBLIC KEY-----
MIICIjANBgkqhkiG9w0BAQEFAAOCAg8AMIICCgKCAgEAokvo/r9tVgcfZ5DysOSC
Frm602qYV0MaAiNnX9O8KxMbiyRKWeL9JpCpVpt4XHIcBOK4u3cLSqJGOLaPuXw6
dO0t6Q/ZVdAV5Phz+ZtzPL16iCGeK9po6D6JHBpbi989mmzMryUnQJezlYJ3DVfB
csedpinheNnyYeFXolrJvcsjDtfAeRx5ByHQmTnSdFUzuAnC9/GepgLT9SM4nCpv
uxmZMxrJt5Rw+VUaQ9B8JSvbMPpez4peKaJPZHBbU3OdeCVx5klVXXZQGNHOs8gF
3kvoV5rTnXV0IknLBXlcKKAQLZcY/Q9rG6Ifi9c+5vqlvHPCUJFT5XUGG5RKgOKU
J062fRtN+rLYZUV+BjafxQauvC8wSWeYja63VSUruvmNj8xkx2zE/Juc+yjLjTXp
IocmaiFeAO6fUtNjDeFVkhf5LNb59vECyrHD2SQIrhgXpO4Q3dVNA5rw576PwTzN
h/AMfHKIjE4xQA1SZuYJmNnmVZLIZBlQAF9Ntd03rfadZ+yDiOXCCs9FkHibELhC
HULgCsnuDJHcrGNd5/Ddm5hxGQ0ASitgHeMZ0kcIOwKDOzOU53lDza6/Y09T7sYJ
PQe7z0cvj7aE4B+Ax1ZoZGPzpJlZtGXCsu9aTEGEnKzmsFqwcSsnw3JB31IGKAyk
T1hhTiaCeIY/OwwwNUY2yvcCAwEAAQ==
-----END PUBLIC KEY-----";

/// Which header's signature was accepted.
#[derive(Debug, Clone, Copy, PartialEq, Eq)]
pub enum GhlScheme {
    Ed25519,
    LegacyRsa,
}

/// A GHL delivery that passed verification.
#[derive(Debug)]
pub struct GhlDelivery {
    pub body: Bytes,
    /// `webhookId` when the payload has one, else the SHA-256 hex of the body.
    pub dedupe_key: String,
    pub scheme: GhlScheme,
    /// The shared fields, or why the body is not a readable JSON object. A genuine but
    /// unreadable body is still stored (and marked), never lost.
    pub meta: Result<GhlMeta, ParseError>,
    /// The body as parsed for `meta`, so intake parses it once (`GhlWebhook::from_value`);
    /// `None` when it is not JSON.
    pub json: Option<serde_json::Value>,
}

/// Holds the parsed public keys; built once at startup.
#[derive(Debug, Clone)]
pub struct GhlVerifier {
    ed25519: ed25519_dalek::VerifyingKey,
    rsa: Option<rsa::pkcs1v15::VerifyingKey<Sha256>>,
    tolerance: Duration,
}

impl GhlVerifier {
    /// `rsa_key` is `None` when the legacy check is switched off.
    pub fn new(
        ed25519_key: &str,
        rsa_key: Option<&str>,
        tolerance: Duration,
    ) -> Result<Self, KeyError> {
        Ok(Self {
            ed25519: parse_ed25519(ed25519_key)?,
            rsa: rsa_key.map(parse_rsa).transpose()?,
            tolerance,
        })
    }

    pub fn verify(
        &self,
        headers: &HeaderMap,
        body: Bytes,
        now: Timestamp,
    ) -> Result<Verified<GhlDelivery>, VerifyError> {
        let scheme = self.check_signature(headers, &body)?;
        let (meta, json) = match serde_json::from_slice::<serde_json::Value>(&body) {
            Ok(value) => (GhlMeta::of(&value), Some(value)),
            Err(error) => (Err(ParseError::NotJson(error)), None),
        };
        match &meta {
            Ok(GhlMeta {
                timestamp: Some(sent),
                ..
            }) => self.check_fresh(*sent, now)?,
            // A timestamp that cannot be read cannot be shown to be fresh.
            Err(ParseError::BadTimestamp) => return Err(VerifyError::Malformed("timestamp")),
            _ => {}
        }
        let dedupe_key = match &meta {
            Ok(GhlMeta {
                webhook_id: Some(id),
                ..
            }) if !id.is_empty() => id.clone(),
            _ => hex::encode(Sha256::digest(&body)),
        };
        Ok(Verified::new(GhlDelivery {
            body,
            dedupe_key,
            scheme,
            meta,
            json,
        }))
    }

    fn check_signature(&self, headers: &HeaderMap, body: &[u8]) -> Result<GhlScheme, VerifyError> {
        if let Some(signature) = signature_header(headers, ED25519_HEADER)? {
            let signature = ed25519_dalek::Signature::from_slice(&signature)
                .map_err(|_| VerifyError::Malformed(ED25519_HEADER))?;
            self.ed25519
                .verify_strict(body, &signature)
                .map_err(|_| VerifyError::Mismatch)?;
            return Ok(GhlScheme::Ed25519);
        }
        let Some(rsa_key) = &self.rsa else {
            return Err(VerifyError::MissingHeader(ED25519_HEADER));
        };
        let Some(signature) = signature_header(headers, RSA_HEADER)? else {
            return Err(VerifyError::MissingHeader(ED25519_HEADER));
        };
        let signature = rsa::pkcs1v15::Signature::try_from(signature.as_slice())
            .map_err(|_| VerifyError::Malformed(RSA_HEADER))?;
        rsa_key
            .verify(body, &signature)
            .map_err(|_| VerifyError::Mismatch)?;
        Ok(GhlScheme::LegacyRsa)
    }

    /// Past and future alike: a clock far ahead is as suspicious as a replay.
    fn check_fresh(&self, sent: Timestamp, now: Timestamp) -> Result<(), VerifyError> {
        let skew = now.as_millisecond().abs_diff(sent.as_millisecond());
        if u128::from(skew) > self.tolerance.as_millis() {
            return Err(VerifyError::Stale);
        }
        Ok(())
    }
}

/// Reads and base64-decodes a signature header. An empty value or GHL's reported `N/A`
/// placeholder counts as absent.
fn signature_header(
    headers: &HeaderMap,
    name: &'static str,
) -> Result<Option<Vec<u8>>, VerifyError> {
    let Some(value) = headers.get(name) else {
        return Ok(None);
    };
    let text = value
        .to_str()
        .map_err(|_| VerifyError::Malformed(name))?
        .trim();
    if text.is_empty() || text.eq_ignore_ascii_case("N/A") {
        return Ok(None);
    }
    use base64::Engine as _;
    base64::engine::general_purpose::STANDARD
        .decode(text)
        .map(Some)
        .map_err(|_| VerifyError::Malformed(name))
}

fn parse_ed25519(text: &str) -> Result<ed25519_dalek::VerifyingKey, KeyError> {
    const WHAT: &str = "GHL Ed25519 webhook public key";
    let invalid = |e: &dyn std::fmt::Display| KeyError::Invalid {
        what: WHAT,
        reason: e.to_string(),
    };
    match KeyText::parse(text, WHAT)? {
        KeyText::Pem(pem) => {
            ed25519_dalek::VerifyingKey::from_public_key_pem(&pem).map_err(|e| invalid(&e))
        }
        // A bare 32-byte key is what some tools print; accept it beside SPKI DER.
        KeyText::Der(raw) if raw.len() == 32 => {
            let bytes: [u8; 32] = raw.try_into().map_err(|_| invalid(&"length"))?;
            ed25519_dalek::VerifyingKey::from_bytes(&bytes).map_err(|e| invalid(&e))
        }
        KeyText::Der(der) => {
            ed25519_dalek::VerifyingKey::from_public_key_der(&der).map_err(|e| invalid(&e))
        }
    }
}

fn parse_rsa(text: &str) -> Result<rsa::pkcs1v15::VerifyingKey<Sha256>, KeyError> {
    const WHAT: &str = "GHL RSA webhook public key";
    let invalid = |e: &dyn std::fmt::Display| KeyError::Invalid {
        what: WHAT,
        reason: e.to_string(),
    };
    let key = match KeyText::parse(text, WHAT)? {
        KeyText::Pem(pem) if pem.starts_with("-----BEGIN RSA PUBLIC KEY") => {
            rsa::RsaPublicKey::from_pkcs1_pem(&pem).map_err(|e| invalid(&e))?
        }
        KeyText::Pem(pem) => {
            rsa::RsaPublicKey::from_public_key_pem(&pem).map_err(|e| invalid(&e))?
        }
        KeyText::Der(der) => {
            rsa::RsaPublicKey::from_public_key_der(&der).map_err(|e| invalid(&e))?
        }
    };
    Ok(rsa::pkcs1v15::VerifyingKey::new(key))
}

#[cfg(test)]
#[path = "webhook_tests.rs"]
mod tests;
