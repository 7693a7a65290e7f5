//! Unit tests for GHL webhook verification, with keys generated here.

use std::sync::OnceLock;

use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use ed25519_dalek::Signer as _;
use ed25519_dalek::pkcs8::EncodePublicKey as _;
use http::HeaderValue;
use rand::RngCore as _;
use rsa::pkcs8::LineEnding;
use rsa::signature::SignatureEncoding as _;

use super::*;

struct Keys {
    ed25519: ed25519_dalek::SigningKey,
    rsa: rsa::pkcs1v15::SigningKey<Sha256>,
    ed25519_pem: String,
    rsa_pem: String,
}

fn ed25519_key() -> ed25519_dalek::SigningKey {
    let mut seed = [0u8; 32];
    rand::thread_rng().fill_bytes(&mut seed);
    ed25519_dalek::SigningKey::from_bytes(&seed)
}

/// RSA key generation is slow, so the tests share one key (2048-bit: the size does not change
/// the code path; GHL's real key is 4096-bit and is loaded in `published_keys_load`).
fn keys() -> &'static Keys {
    static KEYS: OnceLock<Keys> = OnceLock::new();
    KEYS.get_or_init(|| {
        let ed25519 = ed25519_key();
        let rsa_private = rsa::RsaPrivateKey::new(&mut rand::thread_rng(), 2048).unwrap();
        Keys {
            ed25519_pem: ed25519
                .verifying_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
            rsa_pem: rsa_private
                .to_public_key()
                .to_public_key_pem(LineEnding::LF)
                .unwrap(),
            ed25519,
            rsa: rsa::pkcs1v15::SigningKey::new(rsa_private),
        }
    })
}

const NOW: i64 = 1_764_400_000;

fn now() -> Timestamp {
    Timestamp::from_second(NOW).unwrap()
}

fn verifier(legacy: bool) -> GhlVerifier {
    let k = keys();
    GhlVerifier::new(
        &k.ed25519_pem,
        legacy.then_some(k.rsa_pem.as_str()),
        Duration::from_secs(300),
    )
    .unwrap()
}

fn body_at(seconds: i64) -> Bytes {
    let ts = Timestamp::from_second(seconds).unwrap();
    Bytes::from(format!(
        r#"{{"type":"ContactCreate","locationId":"loc","id":"c1","webhookId":"wh-1","timestamp":"{ts}"}}"#
    ))
}

fn ed_sig(key: &ed25519_dalek::SigningKey, body: &[u8]) -> String {
    STANDARD.encode(key.sign(body).to_bytes())
}

fn rsa_sig(body: &[u8]) -> String {
    STANDARD.encode(keys().rsa.sign(body).to_vec())
}

fn headers(pairs: &[(&'static str, String)]) -> HeaderMap {
    let mut map = HeaderMap::new();
    for (name, value) in pairs {
        map.insert(*name, HeaderValue::from_str(value).unwrap());
    }
    map
}

#[test]
fn genuine_ed25519_delivery_is_accepted_and_deduped_on_webhook_id() {
    let body = body_at(NOW);
    let h = headers(&[(ED25519_HEADER, ed_sig(&keys().ed25519, &body))]);

    let delivery = verifier(true).verify(&h, body, now()).unwrap();

    assert_eq!(delivery.scheme, GhlScheme::Ed25519);
    assert_eq!(delivery.dedupe_key, "wh-1");
    assert_eq!(
        delivery.meta.as_ref().unwrap().location_id.as_deref(),
        Some("loc")
    );
}

#[test]
fn genuine_legacy_rsa_delivery_is_accepted_only_when_enabled() {
    let body = body_at(NOW);
    let h = headers(&[(RSA_HEADER, rsa_sig(&body))]);

    let delivery = verifier(true).verify(&h, body.clone(), now()).unwrap();
    assert_eq!(delivery.scheme, GhlScheme::LegacyRsa);

    let err = verifier(false).verify(&h, body, now()).unwrap_err();
    assert_eq!(err, VerifyError::MissingHeader(ED25519_HEADER));
}

#[test]
fn a_tampered_byte_is_rejected_under_both_schemes() {
    let body = body_at(NOW);
    let mut tampered = body.to_vec();
    tampered[10] ^= 0x01;
    for h in [
        headers(&[(ED25519_HEADER, ed_sig(&keys().ed25519, &body))]),
        headers(&[(RSA_HEADER, rsa_sig(&body))]),
    ] {
        let err = verifier(true)
            .verify(&h, Bytes::from(tampered.clone()), now())
            .unwrap_err();
        assert_eq!(err, VerifyError::Mismatch);
    }
}

#[test]
fn a_signature_from_another_key_is_rejected() {
    let body = body_at(NOW);
    let h = headers(&[(ED25519_HEADER, ed_sig(&ed25519_key(), &body))]);

    assert_eq!(
        verifier(true).verify(&h, body, now()).unwrap_err(),
        VerifyError::Mismatch
    );
}

#[test]
fn missing_or_placeholder_signature_is_rejected() {
    for h in [
        HeaderMap::new(),
        headers(&[(ED25519_HEADER, "N/A".to_owned())]),
    ] {
        let err = verifier(true).verify(&h, body_at(NOW), now()).unwrap_err();
        assert_eq!(err, VerifyError::MissingHeader(ED25519_HEADER));
    }
}

#[test]
fn bad_ed25519_with_good_rsa_is_rejected_because_ed25519_decides() {
    let body = body_at(NOW);
    let h = headers(&[
        (ED25519_HEADER, ed_sig(&ed25519_key(), &body)),
        (RSA_HEADER, rsa_sig(&body)),
    ]);

    assert_eq!(
        verifier(true).verify(&h, body, now()).unwrap_err(),
        VerifyError::Mismatch
    );
}

#[test]
fn malformed_signature_values_are_told_from_mismatches() {
    let body = body_at(NOW);
    for (name, value) in [
        (ED25519_HEADER, "%%%"),
        (ED25519_HEADER, "AAAA"),
        (RSA_HEADER, "%%%"),
    ] {
        let err = verifier(true).verify(&headers(&[(name, value.to_owned())]), body.clone(), now());
        assert_eq!(
            err.unwrap_err(),
            VerifyError::Malformed(name),
            "{name}: {value}"
        );
    }
}

#[test]
fn stale_and_future_timestamps_are_rejected_at_the_edge_of_the_window() {
    for (offset, fresh) in [(-301, false), (301, false), (-300, true), (299, true)] {
        let body = body_at(NOW + offset);
        let h = headers(&[(ED25519_HEADER, ed_sig(&keys().ed25519, &body))]);

        let result = verifier(true).verify(&h, body, now());

        assert_eq!(result.is_ok(), fresh, "offset {offset}");
        if !fresh {
            assert_eq!(result.unwrap_err(), VerifyError::Stale);
        }
    }
}

#[test]
fn without_webhook_id_the_body_hash_is_the_dedupe_key() {
    let body = Bytes::from_static(br#"{"type":"NoteCreate","id":"n1"}"#);
    let h = headers(&[(ED25519_HEADER, ed_sig(&keys().ed25519, &body))]);

    let delivery = verifier(true).verify(&h, body.clone(), now()).unwrap();

    assert_eq!(delivery.dedupe_key, hex::encode(Sha256::digest(&body)));
    assert_eq!(delivery.dedupe_key.len(), 64);
}

#[test]
fn a_genuine_body_that_is_not_json_is_verified_and_marked() {
    let body = Bytes::from_static(b"not json");
    let h = headers(&[(ED25519_HEADER, ed_sig(&keys().ed25519, &body))]);

    let delivery = verifier(true).verify(&h, body, now()).unwrap();

    assert!(matches!(delivery.meta, Err(ParseError::NotJson(_))));
}

#[test]
fn unreadable_timestamp_is_rejected() {
    let body = Bytes::from_static(br#"{"type":"NoteCreate","timestamp":"last tuesday"}"#);
    let h = headers(&[(ED25519_HEADER, ed_sig(&keys().ed25519, &body))]);

    assert_eq!(
        verifier(true).verify(&h, body, now()).unwrap_err(),
        VerifyError::Malformed("timestamp")
    );
}

#[test]
fn keys_load_as_pem_escaped_pem_bare_spki_or_raw_bytes() {
    let k = keys();
    let spki_b64: String = k
        .ed25519_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    let raw_b64 = STANDARD.encode(k.ed25519.verifying_key().to_bytes());
    let escaped = k.ed25519_pem.replace('\n', "\\n");
    let rsa_b64: String = k
        .rsa_pem
        .lines()
        .filter(|l| !l.starts_with("-----"))
        .collect();
    for ed in [k.ed25519_pem.as_str(), &spki_b64, &raw_b64, &escaped] {
        let verifier = GhlVerifier::new(ed, Some(&rsa_b64), Duration::from_secs(300)).unwrap();
        let body = body_at(NOW);
        let h = headers(&[(ED25519_HEADER, ed_sig(&k.ed25519, &body))]);
        assert!(verifier.verify(&h, body, now()).is_ok(), "{ed}");
    }
    assert!(GhlVerifier::new("not a key!", None, Duration::ZERO).is_err());
    assert!(GhlVerifier::new(&k.rsa_pem, None, Duration::ZERO).is_err());
}

#[test]
fn published_keys_load() {
    GhlVerifier::new(
        GHL_ED25519_PUBLIC_KEY,
        Some(GHL_RSA_PUBLIC_KEY),
        Duration::from_secs(300),
    )
    .unwrap();
}

mod properties {
    //! The fuzz target's properties, bounded for CI: no panic on arbitrary input, and no
    //! delivery accepted without a signature by the configured key over exactly its body.

    use proptest::prelude::*;

    use super::*;

    /// A signature header as a sender might write it: base64 of the right or a wrong length,
    /// the placeholder, or any text.
    fn signature_text() -> impl Strategy<Value = String> {
        prop_oneof![
            prop::collection::vec(any::<u8>(), 64).prop_map(|b| STANDARD.encode(b)),
            prop::collection::vec(any::<u8>(), 256).prop_map(|b| STANDARD.encode(b)),
            prop::collection::vec(any::<u8>(), 0..80).prop_map(|b| STANDARD.encode(b)),
            Just("N/A".to_owned()),
            ".{0,40}",
        ]
    }

    fn with_headers(ed: Option<String>, rsa: Option<String>) -> HeaderMap {
        let mut h = HeaderMap::new();
        for (name, value) in [(ED25519_HEADER, ed), (RSA_HEADER, rsa)] {
            if let Some(value) = value.and_then(|v| HeaderValue::from_str(&v).ok()) {
                h.insert(name, value);
            }
        }
        h
    }

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(256))]

        #[test]
        fn arbitrary_signature_headers_never_pass(
            body in prop::collection::vec(any::<u8>(), 0..200),
            ed in prop::option::of(signature_text()),
            rsa in prop::option::of(signature_text()),
            legacy in any::<bool>(),
        ) {
            let h = with_headers(ed, rsa);
            prop_assert!(verifier(legacy).verify(&h, Bytes::from(body), now()).is_err());
        }

        #[test]
        fn a_signature_covers_exactly_the_body_it_was_made_for(
            seconds in NOW - 600..NOW + 600,
            extra in ".{0,20}",
            other in prop::collection::vec(any::<u8>(), 0..200),
        ) {
            let body = [body_at(seconds).as_ref(), extra.as_bytes()].concat();
            prop_assume!(body != other);
            let ed = with_headers(Some(ed_sig(&keys().ed25519, &body)), None);
            let rsa = with_headers(None, Some(rsa_sig(&body)));
            for h in [ed, rsa] {
                let refused = verifier(true).verify(&h, Bytes::from(other.clone()), now());
                prop_assert_eq!(refused.unwrap_err(), VerifyError::Mismatch);
            }
        }

        #[test]
        fn a_genuine_signature_is_refused_only_for_its_timestamp(
            body in prop::collection::vec(any::<u8>(), 0..200),
            seconds in NOW - 600..NOW + 600,
            json in any::<bool>(),
        ) {
            let body = if json { body_at(seconds).to_vec() } else { body };
            let h = with_headers(Some(ed_sig(&keys().ed25519, &body)), None);
            let fresh = !json || seconds.abs_diff(NOW) <= 300;
            match verifier(false).verify(&h, Bytes::from(body), now()) {
                Ok(delivery) => {
                    prop_assert!(fresh);
                    prop_assert!(!delivery.dedupe_key.is_empty());
                }
                Err(e) => prop_assert!(!fresh && e == VerifyError::Stale, "{e}"),
            }
        }
    }
}
