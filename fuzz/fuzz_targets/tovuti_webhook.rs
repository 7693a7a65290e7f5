//! Tovuti webhooks: Standard Webhooks and `X-Signature` verification of arbitrary bodies and
//! headers under every accept policy, then event parsing.
//!
//! Asserts: no panic; a delivery is accepted only by the scheme that decides (a present
//! `webhook-signature`, else `X-Signature` when allowed, else unsigned when allowed), with an
//! HMAC recomputed here over exactly the received id, timestamp and body by a configured
//! secret, and a fresh timestamp; a genuine fresh Standard Webhooks delivery is never refused;
//! the dedupe key is never empty.

#![no_main]

use std::sync::OnceLock;
use std::time::Duration;

use arbitrary::Arbitrary;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use bytes::Bytes;
use fuzz_support::{NOW_SECS, TOLERANCE_SECS, insert, now, text};
use hmac::{Hmac, Mac as _};
use http::HeaderMap;
use libfuzzer_sys::fuzz_target;
use sha2::Sha256;
use tovuti_ghl_bridge::platforms::tovuti::webhook::{
    ID_HEADER, SIGNATURE_HEADER, SIMPLE_HEADER, TIMESTAMP_HEADER,
};
use tovuti_ghl_bridge::platforms::tovuti::{
    AcceptPolicy, TovutiMeta, TovutiScheme, TovutiVerifier, TovutiWebhook, WebhookSecret,
};

/// Two secrets, as during a rotation; the second signs when the input says so.
const KEYS: [[u8; 32]; 2] = [[1; 32], [2; 32]];

#[derive(Arbitrary, Debug)]
enum Timestamp {
    Absent,
    /// Seconds from the verifier's clock.
    Offset(i32),
    Raw(Vec<u8>),
}

/// How the harness fills `webhook-signature` or `X-Signature`.
#[derive(Arbitrary, Debug)]
enum Signature {
    Absent,
    Genuine,
    /// A genuine `v1,` signature after some other candidates (Standard Webhooks only).
    AmongOthers(Vec<u8>),
    /// A valid MAC over a different body: right secret, wrong message.
    OtherBody,
    Raw(Vec<u8>),
}

#[derive(Arbitrary, Debug)]
struct Input {
    simple_signature: bool,
    unsigned: bool,
    sign_with_second: bool,
    id: Option<Vec<u8>>,
    timestamp: Timestamp,
    standard: Signature,
    simple: Signature,
    body: Vec<u8>,
}

fn verifier(policy: AcceptPolicy) -> TovutiVerifier {
    let secrets = KEYS
        .iter()
        .map(|k| WebhookSecret::parse(&format!("whsec_{}", STANDARD.encode(k))).expect("secret"))
        .collect();
    TovutiVerifier::new(secrets, policy, Duration::from_secs(TOLERANCE_SECS))
}

fn verifiers() -> &'static [TovutiVerifier; 4] {
    static VERIFIERS: OnceLock<[TovutiVerifier; 4]> = OnceLock::new();
    VERIFIERS.get_or_init(|| {
        [(false, false), (false, true), (true, false), (true, true)].map(
            |(simple_signature, unsigned)| {
                verifier(AcceptPolicy {
                    simple_signature,
                    unsigned,
                })
            },
        )
    })
}

fn mac(key: &[u8], parts: &[&[u8]]) -> Vec<u8> {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).expect("any key length");
    for part in parts {
        mac.update(part);
    }
    mac.finalize().into_bytes().to_vec()
}

/// The signed content as the verifier will see it: the header texts it reads, trimmed.
fn standard_value(
    spec: &Signature,
    key: &[u8],
    headers: &HeaderMap,
    body: &[u8],
) -> Option<Vec<u8>> {
    let id = text(headers, ID_HEADER).unwrap_or_default().as_bytes();
    let ts = text(headers, TIMESTAMP_HEADER)
        .unwrap_or_default()
        .as_bytes();
    let v1 = |body: &[u8]| {
        format!(
            "v1,{}",
            STANDARD.encode(mac(key, &[id, b".", ts, b".", body]))
        )
    };
    match spec {
        Signature::Absent => None,
        Signature::Genuine => Some(v1(body).into_bytes()),
        Signature::AmongOthers(others) => {
            let mut value = others.clone();
            value.push(b' ');
            value.extend_from_slice(v1(body).as_bytes());
            Some(value)
        }
        Signature::OtherBody => Some(v1(&[body, &b"x"[..]].concat()).into_bytes()),
        Signature::Raw(raw) => Some(raw.clone()),
    }
}

fn simple_value(spec: &Signature, key: &[u8], body: &[u8]) -> Option<Vec<u8>> {
    let sha = |body: &[u8]| format!("sha256={}", hex::encode(mac(key, &[body])));
    match spec {
        Signature::Absent => None,
        Signature::Genuine | Signature::AmongOthers(_) => Some(sha(body).into_bytes()),
        Signature::OtherBody => Some(sha(&[body, &b"x"[..]].concat()).into_bytes()),
        Signature::Raw(raw) => Some(raw.clone()),
    }
}

fn headers_for(input: &Input, key: &[u8]) -> HeaderMap {
    let mut headers = HeaderMap::new();
    if let Some(id) = &input.id {
        insert(&mut headers, ID_HEADER, id);
    }
    match &input.timestamp {
        Timestamp::Absent => {}
        Timestamp::Offset(offset) => {
            let sent = NOW_SECS + i64::from(*offset);
            insert(&mut headers, TIMESTAMP_HEADER, sent.to_string().as_bytes());
        }
        Timestamp::Raw(raw) => insert(&mut headers, TIMESTAMP_HEADER, raw),
    }
    if let Some(value) = standard_value(&input.standard, key, &headers, &input.body) {
        insert(&mut headers, SIGNATURE_HEADER, &value);
    }
    if let Some(value) = simple_value(&input.simple, key, &input.body) {
        insert(&mut headers, SIMPLE_HEADER, &value);
    }
    headers
}

fn standard_is_genuine(headers: &HeaderMap, body: &[u8]) -> bool {
    let (Some(id), Some(ts), Some(sigs)) = (
        text(headers, ID_HEADER),
        text(headers, TIMESTAMP_HEADER),
        text(headers, SIGNATURE_HEADER),
    ) else {
        return false;
    };
    let fresh = ts
        .parse::<i64>()
        .is_ok_and(|sent| sent.abs_diff(NOW_SECS) <= TOLERANCE_SECS);
    let candidates: Vec<Vec<u8>> = sigs
        .split_whitespace()
        .filter_map(|s| s.strip_prefix("v1,"))
        .filter_map(|b64| STANDARD.decode(b64).ok())
        .collect();
    let signed = |key: &[u8; 32]| mac(key, &[id.as_bytes(), b".", ts.as_bytes(), b".", body]);
    fresh && KEYS.iter().map(signed).any(|m| candidates.contains(&m))
}

fn simple_is_genuine(headers: &HeaderMap, body: &[u8]) -> bool {
    let Some(digest) = text(headers, SIMPLE_HEADER).and_then(|s| s.strip_prefix("sha256=")) else {
        return false;
    };
    let digest = hex::decode(digest).unwrap_or_default();
    KEYS.iter().any(|key| mac(key, &[body]) == digest)
}

fn check_accepted(input: &Input, headers: &HeaderMap, scheme: TovutiScheme) {
    let standard_present = text(headers, SIGNATURE_HEADER).is_some();
    match scheme {
        TovutiScheme::StandardWebhooks => {
            assert!(
                standard_is_genuine(headers, &input.body),
                "forged or stale delivery accepted"
            );
        }
        TovutiScheme::SimpleHmac => {
            assert!(input.simple_signature && !standard_present);
            assert!(
                simple_is_genuine(headers, &input.body),
                "forged X-Signature accepted"
            );
        }
        TovutiScheme::Unsigned => {
            assert!(input.unsigned && !standard_present, "signature skipped");
            let simple_present = text(headers, SIMPLE_HEADER).is_some();
            assert!(
                !(input.simple_signature && simple_present),
                "X-Signature skipped"
            );
        }
    }
}

fn parse_event(body: &[u8]) {
    let _ = TovutiMeta::peek(body);
    if let Ok(webhook) = TovutiWebhook::parse(body) {
        let _ = (
            webhook.event_type(),
            webhook.entity_key(),
            webhook.event.known_type(),
        );
    }
}

fuzz_target!(|input: Input| {
    let key = &KEYS[usize::from(input.sign_with_second)];
    let headers = headers_for(&input, key);
    let index = usize::from(input.simple_signature) * 2 + usize::from(input.unsigned);
    let verifier = &verifiers()[index];
    let body = Bytes::copy_from_slice(&input.body);
    match verifier.verify(&headers, body, now()) {
        Ok(delivery) => {
            assert_eq!(delivery.body.as_ref(), input.body.as_slice());
            assert!(!delivery.dedupe_key.is_empty(), "empty dedupe key");
            check_accepted(&input, &headers, delivery.scheme);
        }
        Err(error) => {
            let id_is_text = input
                .id
                .as_ref()
                .is_some_and(|_| text(&headers, ID_HEADER).is_some());
            let genuine = matches!(input.standard, Signature::Genuine) && id_is_text;
            assert!(
                !(genuine && standard_is_genuine(&headers, &input.body)),
                "genuine fresh delivery refused: {error}"
            );
            let _ = error.to_string();
        }
    }
    parse_event(&input.body);
});
