//! Properties of both front doors over generated deliveries: whatever the body and the
//! headers, the answer is never a 5xx, and a delivery whose signature does not verify is
//! never stored.

use axum::http::StatusCode;
use base64::Engine as _;
use base64::engine::general_purpose::STANDARD;
use jiff::Timestamp;
use proptest::prelude::*;
use proptest::test_runner::{Config, TestCaseError, TestRunner};

use crate::support::*;

/// Cases per property: enough to wander, few enough for CI on two cores.
const CASES: u32 = 64;

fn runner() -> TestRunner {
    TestRunner::new(Config {
        cases: CASES,
        failure_persistence: None,
        ..Config::default()
    })
}

fn runtime() -> tokio::runtime::Runtime {
    tokio::runtime::Builder::new_multi_thread()
        .worker_threads(2)
        .enable_all()
        .build()
        .unwrap()
}

/// Any bytes, often a JSON-looking text.
fn any_body() -> impl Strategy<Value = Vec<u8>> {
    prop_oneof![
        proptest::collection::vec(any::<u8>(), 0..512),
        "\\{[ -~]{0,200}\\}".prop_map(String::into_bytes),
        (any::<u32>(), "[a-zA-Z]{1,20}")
            .prop_map(|(n, t)| { ghl_body(&t, LOCATION, &format!("wh_{n}")).into_bytes() }),
    ]
}

/// A header value: absent, printable text, or base64 of random bytes.
fn any_value() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        "[ -~]{0,120}".prop_map(Some),
        proptest::collection::vec(any::<u8>(), 0..96).prop_map(|b| Some(STANDARD.encode(b))),
    ]
}

fn content_type() -> impl Strategy<Value = Option<String>> {
    prop_oneof![
        Just(None),
        Just(Some("application/json".to_owned())),
        Just(Some(
            "application/cloudevents+json; charset=utf-8".to_owned()
        )),
        "[ -~]{0,40}".prop_map(Some),
    ]
}

fn headers(pairs: Vec<(&'static str, Option<String>)>) -> Vec<(&'static str, String)> {
    pairs
        .into_iter()
        .filter_map(|(name, value)| value.map(|v| (name, v)))
        .collect()
}

fn never_5xx(answer: &Answer) -> Result<(), TestCaseError> {
    prop_assert!(
        !answer.status.is_server_error(),
        "{} {:?}",
        answer.status,
        answer.body
    );
    Ok(())
}

#[test]
fn an_unverified_ghl_delivery_is_never_stored_nor_a_5xx() {
    let rt = runtime();
    let app = rt.block_on(TestApp::new());
    let strategy = (any_body(), content_type(), any_value(), any_value());
    runner()
        .run(&strategy, |(body, content_type, signature, legacy)| {
            let sent = headers(vec![
                ("content-type", content_type),
                ("x-ghl-signature", signature),
                ("x-wh-signature", legacy),
            ]);
            let answer = rt.block_on(app.post("/webhooks/ghl", &sent, body));
            never_5xx(&answer)?;
            prop_assert_ne!(answer.status, StatusCode::OK);
            prop_assert_eq!(rt.block_on(app.total_events()), 0);
            Ok(())
        })
        .unwrap();
    rt.block_on(app.finish());
}

#[test]
fn an_unverified_tovuti_delivery_is_never_stored_nor_a_5xx() {
    let rt = runtime();
    let app = rt.block_on(TestApp::new());
    let timestamp = prop_oneof![
        any_value(),
        (-600i64..600).prop_map(|skew| Some((Timestamp::now().as_second() + skew).to_string())),
    ];
    let signature = prop_oneof![
        any_value(),
        proptest::collection::vec(any::<u8>(), 32)
            .prop_map(|mac| Some(format!("v1,{}", STANDARD.encode(mac)))),
    ];
    let strategy = (
        any_body(),
        content_type(),
        any_value(),
        timestamp,
        signature,
        any_value(),
    );
    runner()
        .run(
            &strategy,
            |(body, content_type, id, timestamp, signature, simple)| {
                let sent = headers(vec![
                    ("content-type", content_type),
                    ("webhook-id", id),
                    ("webhook-timestamp", timestamp),
                    ("webhook-signature", signature),
                    ("x-signature", simple),
                ]);
                let answer = rt.block_on(app.post("/webhooks/tovuti", &sent, body));
                never_5xx(&answer)?;
                prop_assert_ne!(answer.status, StatusCode::OK);
                prop_assert_eq!(rt.block_on(app.total_events()), 0);
                Ok(())
            },
        )
        .unwrap();
    rt.block_on(app.finish());
}

#[test]
fn a_signed_delivery_altered_in_one_byte_is_refused_and_never_stored() {
    let rt = runtime();
    let app = rt.block_on(TestApp::new());
    let strategy = (any::<u32>(), any::<prop::sample::Index>(), 1..=255u8);
    runner()
        .run(&strategy, |(n, at, flip)| {
            let id = format!("evt_{n}");
            let signed = tovuti_body("user.created", &id);
            let mut sent = signed.clone().into_bytes();
            let i = at.index(sent.len());
            sent[i] ^= flip;
            let tovuti_headers =
                tovuti_headers(SECRET_A, &id, Timestamp::now().as_second(), &signed);
            let tovuti = rt.block_on(app.post("/webhooks/tovuti", &tovuti_headers, sent.clone()));
            let ghl_signed = ghl_body("ContactCreate", LOCATION, &id);
            let mut ghl_sent = ghl_signed.clone().into_bytes();
            let j = at.index(ghl_sent.len());
            ghl_sent[j] ^= flip;
            let ghl_headers = ghl_headers(&keys().ed25519, &ghl_signed);
            let ghl = rt.block_on(app.post("/webhooks/ghl", &ghl_headers, ghl_sent));
            for answer in [&tovuti, &ghl] {
                prop_assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{:?}", answer.body);
            }
            prop_assert_eq!(rt.block_on(app.total_events()), 0);
            Ok(())
        })
        .unwrap();
    rt.block_on(app.finish());
}

#[test]
fn a_genuine_delivery_of_any_body_is_never_a_5xx() {
    let rt = runtime();
    let app = rt.block_on(TestApp::new());
    let strategy = (any::<u32>(), any_body());
    runner()
        .run(&strategy, |(n, body)| {
            let id = format!("evt_{n}");
            let text = String::from_utf8_lossy(&body).into_owned();
            let sent = tovuti_headers(SECRET_A, &id, Timestamp::now().as_second(), &text);
            let tovuti = rt.block_on(app.post("/webhooks/tovuti", &sent, text.clone()));
            never_5xx(&tovuti)?;
            let ghl = rt.block_on(app.post_ghl(&text));
            never_5xx(&ghl)?;
            Ok(())
        })
        .unwrap();
    rt.block_on(app.finish());
}
