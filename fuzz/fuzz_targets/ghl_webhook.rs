//! GHL webhooks: verification of arbitrary bodies and signature headers, then event parsing.
//!
//! Asserts: no panic; a delivery is accepted only when the header that decides (Ed25519 when
//! present, else legacy RSA when enabled) verifies over exactly the received body with the
//! configured key, and its timestamp (if any) is fresh; a genuine Ed25519 signature is refused
//! only for its timestamp; the dedupe key is never empty.

#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::EncodePublicKey as _;
use fuzz_support::{TOLERANCE_SECS, insert, now, text};
use http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use rand::SeedableRng as _;
use rsa::signature::{SignatureEncoding as _, Verifier as _};
use tovuti_ghl_bridge::platforms::VerifyError;
use tovuti_ghl_bridge::platforms::ghl::webhook::{ED25519_HEADER, RSA_HEADER};
use tovuti_ghl_bridge::platforms::ghl::{GhlMeta, GhlScheme, GhlVerifier, GhlWebhook};

/// How the harness fills one signature header.
#[derive(Arbitrary, Debug)]
enum Signature {
    Absent,
    /// A valid signature over the body.
    Genuine,
    /// A valid signature over the body with one byte changed: right key, wrong body.
    OtherBody {
        at: u16,
        xor: u8,
    },
    /// Whatever the fuzzer writes.
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    ed25519: Signature,
    rsa: Signature,
    legacy_rsa_enabled: bool,
    body: Vec<u8>,
}

struct Keys {
    ed25519: ed25519_dalek::SigningKey,
    rsa: rsa::pkcs1v15::SigningKey<sha2::Sha256>,
    rsa_public: rsa::pkcs1v15::VerifyingKey<sha2::Sha256>,
    legacy: GhlVerifier,
    modern: GhlVerifier,
}

/// Fixed keys so a crash reproduces; 1024-bit RSA keeps signing cheap (the size does not
/// change the code path).
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let mut rng = rand::rngs::StdRng::seed_from_u64(7);
        let ed25519 = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
        let rsa_private = rsa::RsaPrivateKey::new(&mut rng, 1024).expect("RSA key");
        let line = rsa::pkcs8::LineEnding::LF;
        let ed_pem = ed25519
            .verifying_key()
            .to_public_key_pem(line)
            .expect("PEM");
        let rsa_pem = rsa_private
            .to_public_key()
            .to_public_key_pem(line)
            .expect("PEM");
        let tolerance = Duration::from_secs(TOLERANCE_SECS);
        Keys {
            legacy: GhlVerifier::new(&ed_pem, Some(&rsa_pem), tolerance).expect("keys"),
            modern: GhlVerifier::new(&ed_pem, None, tolerance).expect("keys"),
            ed25519,
            rsa_public: rsa::pkcs1v15::VerifyingKey::new(rsa_private.to_public_key()),
            rsa: rsa::pkcs1v15::SigningKey::new(rsa_private),
        }
    })
}

fn other_body(body: &[u8], at: u16, xor: u8) -> Vec<u8> {
    let mut other = body.to_vec();
    match other.get_mut(usize::from(at) % body.len().max(1)) {
        Some(byte) => *byte ^= xor.max(1),
        None => other.push(xor),
    }
    other
}

fn header_value(spec: &Signature, body: &[u8], sign: impl Fn(&[u8]) -> Vec<u8>) -> Option<Vec<u8>> {
    match spec {
        Signature::Absent => None,
        Signature::Genuine => Some(STANDARD.encode(sign(body)).into_bytes()),
        Signature::OtherBody { at, xor } => Some(
            STANDARD
                .encode(sign(&other_body(body, *at, *xor)))
                .into_bytes(),
        ),
        Signature::Raw(raw) => Some(raw.clone()),
    }
}

/// The decoded signature the verifier would read, with GHL's `N/A` placeholder as absent.
fn decoded(headers: &HeaderMap, name: &str) -> Option<Vec<u8>> {
    let text = text(headers, name).filter(|t| !t.eq_ignore_ascii_case("N/A"))?;
    Some(STANDARD.decode(text).unwrap_or_default())
}

fn check_accepted(keys: &Keys, headers: &HeaderMap, body: &[u8], scheme: GhlScheme, legacy: bool) {
    let ed = decoded(headers, ED25519_HEADER);
    match scheme {
        GhlScheme::Ed25519 => {
            let sig = ed25519_dalek::Signature::from_slice(&ed.expect("accepted without header"))
                .expect("accepted a malformed Ed25519 signature");
            assert!(
                keys.ed25519
                    .verifying_key()
                    .verify_strict(body, &sig)
                    .is_ok()
            );
        }
        GhlScheme::LegacyRsa => {
            assert!(legacy, "RSA accepted while the legacy check is off");
            assert!(
                ed.is_none(),
                "RSA consulted although X-GHL-Signature decides"
            );
            let raw = decoded(headers, RSA_HEADER).expect("accepted without header");
            let sig = rsa::pkcs1v15::Signature::try_from(raw.as_slice()).expect("RSA signature");
            assert!(keys.rsa_public.verify(body, &sig).is_ok());
        }
    }
    if let Ok(value) = serde_json::from_slice::<serde_json::Value>(body) {
        if let Ok(GhlMeta {
            timestamp: Some(sent),
            ..
        }) = GhlMeta::of(&value)
        {
            let skew = now().as_second().abs_diff(sent.as_second());
            assert!(skew <= TOLERANCE_SECS + 1, "stale delivery accepted");
        }
    }
}

fn parse_event(body: &[u8]) {
    if let Ok(webhook) = GhlWebhook::parse(body) {
        let _ = (
            webhook.event_type(),
            webhook.entity_key(),
            webhook.event.contact_id(),
        );
        let _ = webhook.event.known_type();
    }
}

fuzz_target!(|input: Input| {
    let keys = keys();
    let body = input.body.as_slice();
    let mut headers = HeaderMap::new();
    let ed_sign = |b: &[u8]| keys.ed25519.sign(b).to_bytes().to_vec();
    let rsa_sign = |b: &[u8]| keys.rsa.sign(b).to_vec();
    if let Some(value) = header_value(&input.ed25519, body, ed_sign) {
        insert(&mut headers, ED25519_HEADER, &value);
    }
    if let Some(value) = header_value(&input.rsa, body, rsa_sign) {
        insert(&mut headers, RSA_HEADER, &value);
    }
    let verifier = if input.legacy_rsa_enabled {
        &keys.legacy
    } else {
        &keys.modern
    };
    match verifier.verify(&headers, Bytes::copy_from_slice(body), now()) {
        Ok(delivery) => {
            assert_eq!(delivery.body.as_ref(), body);
            assert!(!delivery.dedupe_key.is_empty(), "empty dedupe key");
            check_accepted(
                keys,
                &headers,
                body,
                delivery.scheme,
                input.legacy_rsa_enabled,
            );
        }
        Err(error) => {
            let genuine = matches!(input.ed25519, Signature::Genuine);
            let timestamp = matches!(
                error,
                VerifyError::Stale | VerifyError::Malformed("timestamp")
            );
            assert!(
                !genuine || timestamp,
                "genuine Ed25519 delivery refused: {error}"
            );
            let _ = error.to_string();
        }
    }
    parse_event(body);
});
