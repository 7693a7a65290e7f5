//! Unit tests for Tovuti (Standard Webhooks) verification, with secrets generated here.

use http::HeaderValue;
use rand::RngCore as _;

use super::*;

const NOW: i64 = 1_764_400_000;
const BODY: &[u8] = br#"{"id":"evt_1","type":"user.created","occurred_at":"2026-11-29T07:06:40Z","data":{"user":{"id":1}}}"#;

fn now() -> Timestamp {
    Timestamp::from_second(NOW).unwrap()
}

/// A fresh `whsec_` secret and its raw key.
fn new_secret() -> (String, Vec<u8>) {
    let mut key = vec![0u8; 32];
    rand::thread_rng().fill_bytes(&mut key);
    (format!("whsec_{}", STANDARD.encode(&key)), key)
}

fn verifier(secrets: &[&str], policy: AcceptPolicy) -> TovutiVerifier {
    let secrets = secrets
        .iter()
        .map(|s| WebhookSecret::parse(s).unwrap())
        .collect();
    TovutiVerifier::new(secrets, policy, Duration::from_secs(300))
}

fn sign_v1(key: &[u8], id: &str, ts: i64, body: &[u8]) -> String {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(format!("{id}.{ts}.").as_bytes());
    mac.update(body);
    format!("v1,{}", STANDARD.encode(mac.finalize().into_bytes()))
}

fn standard_headers(id: &str, ts: i64, signature: &str) -> HeaderMap {
    let mut h = HeaderMap::new();
    h.insert(ID_HEADER, HeaderValue::from_str(id).unwrap());
    h.insert(
        TIMESTAMP_HEADER,
        HeaderValue::from_str(&ts.to_string()).unwrap(),
    );
    h.insert(SIGNATURE_HEADER, HeaderValue::from_str(signature).unwrap());
    h
}

fn check(
    v: &TovutiVerifier,
    h: &HeaderMap,
    body: &[u8],
) -> Result<Verified<TovutiDelivery>, VerifyError> {
    v.verify(h, Bytes::copy_from_slice(body), now())
}

#[test]
fn genuine_delivery_is_accepted_and_deduped_on_webhook_id() {
    let (secret, key) = new_secret();
    let h = standard_headers("msg_1", NOW, &sign_v1(&key, "msg_1", NOW, BODY));

    let delivery = check(&verifier(&[&secret], AcceptPolicy::default()), &h, BODY).unwrap();

    assert_eq!(delivery.scheme, TovutiScheme::StandardWebhooks);
    assert_eq!(delivery.dedupe_key, "msg_1");
    assert_eq!(
        delivery.meta.as_ref().unwrap().event_type.as_deref(),
        Some("user.created")
    );
}

#[test]
fn tampered_body_id_or_timestamp_and_wrong_secret_are_rejected() {
    let (secret, key) = new_secret();
    let (other, _) = new_secret();
    let sig = sign_v1(&key, "msg_1", NOW, BODY);
    let mut tampered = BODY.to_vec();
    tampered[3] ^= 0x20;
    let cases = [
        (
            verifier(&[&secret], AcceptPolicy::default()),
            standard_headers("msg_1", NOW, &sig),
            tampered,
        ),
        (
            verifier(&[&secret], AcceptPolicy::default()),
            standard_headers("msg_2", NOW, &sig),
            BODY.to_vec(),
        ),
        (
            verifier(&[&secret], AcceptPolicy::default()),
            standard_headers("msg_1", NOW + 1, &sig),
            BODY.to_vec(),
        ),
        (
            verifier(&[&other], AcceptPolicy::default()),
            standard_headers("msg_1", NOW, &sig),
            BODY.to_vec(),
        ),
    ];
    for (i, (v, h, body)) in cases.iter().enumerate() {
        assert_eq!(
            check(v, h, body).unwrap_err(),
            VerifyError::Mismatch,
            "case {i}"
        );
    }
}

#[test]
fn missing_headers_are_named() {
    let (secret, key) = new_secret();
    let v = verifier(&[&secret], AcceptPolicy::default());
    let full = standard_headers("msg_1", NOW, &sign_v1(&key, "msg_1", NOW, BODY));
    for name in [SIGNATURE_HEADER, ID_HEADER, TIMESTAMP_HEADER] {
        let mut h = full.clone();
        h.remove(name);
        assert_eq!(
            check(&v, &h, BODY).unwrap_err(),
            VerifyError::MissingHeader(name)
        );
    }
}

#[test]
fn stale_and_future_timestamps_are_rejected_at_the_edge_of_the_window() {
    let (secret, key) = new_secret();
    let v = verifier(&[&secret], AcceptPolicy::default());
    for (offset, fresh) in [(-301, false), (301, false), (-300, true), (300, true)] {
        let ts = NOW + offset;
        let h = standard_headers("m", ts, &sign_v1(&key, "m", ts, BODY));

        let result = check(&v, &h, BODY);

        match fresh {
            true => assert!(result.is_ok(), "offset {offset}"),
            false => assert_eq!(result.unwrap_err(), VerifyError::Stale, "offset {offset}"),
        }
    }
}

#[test]
fn during_rotation_either_secret_and_any_listed_signature_passes() {
    let (old, old_key) = new_secret();
    let (new, new_key) = new_secret();
    let both = verifier(&[&old, &new], AcceptPolicy::default());
    let old_sig = sign_v1(&old_key, "m", NOW, BODY);
    let new_sig = sign_v1(&new_key, "m", NOW, BODY);
    let junk = "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=";

    for signature in [
        &old_sig,
        &new_sig,
        &format!("{junk} {new_sig}"),
        &format!("v2,xyz {old_sig}"),
    ] {
        assert!(
            check(&both, &standard_headers("m", NOW, signature), BODY).is_ok(),
            "{signature}"
        );
    }
    let retired = verifier(&[&new], AcceptPolicy::default());
    assert_eq!(
        check(&retired, &standard_headers("m", NOW, &old_sig), BODY).unwrap_err(),
        VerifyError::Mismatch
    );
}

#[test]
fn a_header_without_v1_signatures_is_malformed() {
    let (secret, _) = new_secret();
    let h = standard_headers("m", NOW, "v2,abc v1a,def");

    let err = check(&verifier(&[&secret], AcceptPolicy::default()), &h, BODY).unwrap_err();

    assert_eq!(err, VerifyError::Malformed(SIGNATURE_HEADER));
}

fn simple_headers(key: &[u8], body: &[u8]) -> HeaderMap {
    let mut mac = Hmac::<Sha256>::new_from_slice(key).unwrap();
    mac.update(body);
    let mut h = HeaderMap::new();
    let value = format!("sha256={}", hex::encode(mac.finalize().into_bytes()));
    h.insert(SIMPLE_HEADER, HeaderValue::from_str(&value).unwrap());
    h
}

#[test]
fn simple_signature_is_accepted_only_where_opted_in() {
    let (secret, key) = new_secret();
    let h = simple_headers(&key, BODY);
    let opted_in = verifier(
        &[&secret],
        AcceptPolicy {
            simple_signature: true,
            unsigned: false,
        },
    );

    let delivery = check(&opted_in, &h, BODY).unwrap();
    assert_eq!(delivery.scheme, TovutiScheme::SimpleHmac);
    assert_eq!(
        delivery.dedupe_key, "evt_1",
        "falls back to the envelope id"
    );

    let default = verifier(&[&secret], AcceptPolicy::default());
    assert_eq!(
        check(&default, &h, BODY).unwrap_err(),
        VerifyError::MissingHeader(SIGNATURE_HEADER)
    );
    assert_eq!(
        check(&opted_in, &h, b"{}").unwrap_err(),
        VerifyError::Mismatch
    );
}

#[test]
fn unsigned_mode_accepts_bare_deliveries_but_still_checks_a_present_signature() {
    let (secret, _) = new_secret();
    let v = verifier(
        &[&secret],
        AcceptPolicy {
            simple_signature: false,
            unsigned: true,
        },
    );

    let delivery = check(&v, &HeaderMap::new(), b"plain").unwrap();
    assert_eq!(delivery.scheme, TovutiScheme::Unsigned);
    assert_eq!(delivery.dedupe_key, hex::encode(Sha256::digest(b"plain")));

    let forged = standard_headers("m", NOW, "v1,AAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAAA=");
    assert_eq!(check(&v, &forged, BODY).unwrap_err(), VerifyError::Mismatch);
}

#[test]
fn the_sender_side_signatures_verify() {
    let (text, _) = new_secret();
    let secret = WebhookSecret::parse(&text).unwrap();
    let both = verifier(
        &[&text],
        AcceptPolicy {
            simple_signature: true,
            unsigned: false,
        },
    );

    let standard = standard_headers("m", NOW, &secret.sign("m", NOW, BODY));
    let mut simple = HeaderMap::new();
    simple.insert(
        SIMPLE_HEADER,
        HeaderValue::from_str(&secret.sign_simple(BODY)).unwrap(),
    );

    assert_eq!(
        check(&both, &standard, BODY).unwrap().scheme,
        TovutiScheme::StandardWebhooks
    );
    assert_eq!(
        check(&both, &simple, BODY).unwrap().scheme,
        TovutiScheme::SimpleHmac
    );
}

#[test]
fn secrets_are_redacted_and_weak_ones_refused() {
    let (secret, key) = new_secret();
    let parsed = WebhookSecret::parse(&secret).unwrap();
    let shown = format!(
        "{parsed:?} {:?}",
        verifier(&[&secret], AcceptPolicy::default())
    );
    assert!(!shown.contains(&secret[6..]), "{shown}");
    assert!(shown.contains("[redacted]"));

    assert!(
        WebhookSecret::parse(&STANDARD.encode(&key)).is_ok(),
        "prefix is optional"
    );
    assert!(WebhookSecret::parse("whsec_c2hvcnQ=").is_err(), "too short");
    assert!(WebhookSecret::parse("whsec_!!").is_err(), "not base64");
}

#[test]
fn generated_secrets_are_fresh_32_byte_standard_webhooks_secrets() {
    let first = webhook_secret();
    let encoded = first.strip_prefix("whsec_").unwrap();
    assert_eq!(STANDARD.decode(encoded).unwrap().len(), 32);
    assert!(WebhookSecret::parse(&first).is_ok());
    assert_ne!(first, webhook_secret());
}

mod properties {
    //! The fuzz target's properties, bounded for CI: no panic on arbitrary headers and bodies,
    //! and no signed scheme passes without a MAC by a configured secret over exactly the body.

    use proptest::prelude::*;

    use super::*;

    fn text() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 32)
                .prop_map(|b| format!("v1,{}", STANDARD.encode(b))),
            prop::collection::vec(any::<u8>(), 32)
                .prop_map(|b| format!("sha256={}", hex::encode(b))),
            (NOW - 400..NOW + 400).prop_map(|t| t.to_string()),
            ".{0,40}",
        ]
    }

    fn arbitrary_headers(values: [Option<String>; 4]) -> HeaderMap {
        let mut h = HeaderMap::new();
        let names = [ID_HEADER, TIMESTAMP_HEADER, SIGNATURE_HEADER, SIMPLE_HEADER];
        for (name, value) in names.into_iter().zip(values) {
            if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                h.insert(name, value);
            }
        }
        h
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_headers_never_pass_a_signed_policy(
            body in prop::collection::vec(any::<u8>(), 0..200),
            values in prop::array::uniform4(prop::option::of(text())),
            simple_signature in any::<bool>(),
        ) {
            let (secret, _) = new_secret();
            let policy = AcceptPolicy { simple_signature, unsigned: false };
            let h = arbitrary_headers(values);
            prop_assert!(check(&verifier(&[&secret], policy), &h, &body).is_err());
        }

        #[test]
        fn a_signature_covers_exactly_the_body_it_was_made_for(
            body in prop::collection::vec(any::<u8>(), 0..200),
            other in prop::collection::vec(any::<u8>(), 0..200),
            id in "[a-z0-9_]{1,12}",
            offset in -300i64..=300,
        ) {
            prop_assume!(body != other);
            let (secret, key) = new_secret();
            let v = verifier(&[&secret], AcceptPolicy { simple_signature: true, unsigned: true });
            let ts = NOW + offset;
            let standard = standard_headers(&id, ts, &sign_v1(&key, &id, ts, &body));
            let mut simple = HeaderMap::new();
            let signed = WebhookSecret::parse(&secret).map(|s| s.sign_simple(&body));
            simple.insert(SIMPLE_HEADER, HeaderValue::from_str(&signed.unwrap_or_default()).unwrap());
            for h in [&standard, &simple] {
                prop_assert!(check(&v, h, &body).is_ok());
                prop_assert_eq!(check(&v, h, &other).unwrap_err(), VerifyError::Mismatch);
            }
        }
    }
}
