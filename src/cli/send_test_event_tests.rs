//! The requests `send-test-event` builds pass the service's own verification.

use std::time::Duration;

use bytes::Bytes;
use ed25519_dalek::pkcs8::{EncodePrivateKey as _, EncodePublicKey as _};
use http::{HeaderMap, HeaderName, HeaderValue};
use rsa::pkcs8::LineEnding;

use super::*;
use crate::platforms::ghl::GhlVerifier;
use crate::platforms::tovuti::{AcceptPolicy, TovutiScheme, TovutiVerifier};

fn args(platform: Platform, event_type: &str) -> SendTestEventArgs {
    SendTestEventArgs {
        platform,
        event_type: event_type.to_owned(),
        url: "http://127.0.0.1:9/".to_owned(),
        key: None,
        secret: None,
        simple: false,
        connection: None,
        location: "loc_1".to_owned(),
        dry_run: true,
    }
}

fn header_map(request: &TestRequest) -> HeaderMap {
    request
        .headers
        .iter()
        .map(|(n, v)| {
            (
                HeaderName::from_static(n),
                HeaderValue::from_str(v).unwrap(),
            )
        })
        .collect()
}

#[test]
fn ghl_requests_verify_against_the_matching_public_key() {
    let key = ed25519_dalek::SigningKey::from_bytes(&[7; 32]);
    let public_pem = key
        .verifying_key()
        .to_public_key_pem(LineEnding::LF)
        .unwrap();
    let verifier = GhlVerifier::new(&public_pem, None, Duration::from_secs(300)).unwrap();
    let private_pem = key.to_pkcs8_pem(LineEnding::LF).unwrap().to_string();
    let now = Timestamp::now();

    for key_text in [private_pem, STANDARD.encode([7; 32])] {
        let request = build(
            &SendTestEventArgs {
                key: Some(key_text),
                ..args(Platform::Ghl, "NoteCreate")
            },
            now,
        )
        .unwrap();

        assert_eq!(request.url, "http://127.0.0.1:9/webhooks/ghl");
        let delivery = verifier
            .verify(&header_map(&request), Bytes::from(request.body), now)
            .unwrap();
        assert!(delivery.dedupe_key.starts_with("test_"));
    }
}

#[test]
fn ghl_without_a_key_is_refused_with_advice() {
    let err = build(&args(Platform::Ghl, "NoteCreate"), Timestamp::now()).unwrap_err();
    assert!(err.to_string().contains("BRIDGE_GHL_WEBHOOK_PUBLIC_KEY"));
}

#[test]
fn tovuti_requests_verify_under_both_schemes() {
    let secret = format!("whsec_{}", STANDARD.encode([9u8; 24]));
    let policy = AcceptPolicy {
        simple_signature: true,
        unsigned: false,
    };
    let verifier = TovutiVerifier::new(
        vec![WebhookSecret::parse(&secret).unwrap()],
        policy,
        Duration::from_secs(300),
    );
    let now = Timestamp::now();

    for (simple, scheme) in [
        (false, TovutiScheme::StandardWebhooks),
        (true, TovutiScheme::SimpleHmac),
    ] {
        let request = build(
            &SendTestEventArgs {
                secret: Some(secret.clone()),
                simple,
                connection: Some("acme".to_owned()),
                ..args(Platform::Tovuti, "course.completed")
            },
            now,
        )
        .unwrap();

        assert_eq!(request.url, "http://127.0.0.1:9/webhooks/tovuti/acme");
        let delivery = verifier
            .verify(&header_map(&request), Bytes::from(request.body), now)
            .unwrap();
        assert_eq!(delivery.scheme, scheme);
    }
}

#[test]
fn a_full_webhook_url_is_kept() {
    assert_eq!(
        webhook_url("http://h/webhooks/tovuti/x", "/webhooks/tovuti"),
        "http://h/webhooks/tovuti/x"
    );
}
