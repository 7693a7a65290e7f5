//! Unit tests for Tovuti event parsing, driven by the samples in `tests/fixtures/tovuti/`.

use std::path::{Path, PathBuf};

use serde_json::json;

use super::*;
use crate::platforms::tovuti::payloads::TovutiId;

/// Every Tovuti event type the service documents; the samples and fixtures share it.
const TYPES: [&str; 9] = crate::sandbox::samples::TOVUTI_TYPES;

fn fixture(event_type: &str) -> Vec<u8> {
    let path: PathBuf = Path::new(env!("CARGO_MANIFEST_DIR"))
        .join(format!("tests/fixtures/tovuti/{event_type}.json"));
    std::fs::read(&path).unwrap_or_else(|e| panic!("{}: {e}", path.display()))
}

#[test]
fn every_sample_parses_into_its_typed_event() {
    for event_type in TYPES {
        let parsed = TovutiWebhook::parse(&fixture(event_type))
            .unwrap_or_else(|e| panic!("{event_type}: {e:?}"));

        assert!(
            !matches!(parsed.event, TovutiEvent::Unknown { .. }),
            "{event_type}"
        );
        assert_eq!(parsed.event_type(), event_type);
        assert_eq!(
            parsed.entity_key().as_str(),
            "tovuti:user:4211",
            "{event_type}"
        );
        assert!(parsed.occurred_at.is_some());
    }
}

#[test]
fn user_sample_keeps_the_api_user_object() {
    let parsed = TovutiWebhook::parse(&fixture("user.created")).unwrap();

    let TovutiEvent::UserCreated(data) = &parsed.event else {
        panic!("{parsed:?}")
    };
    let user = &data.user;
    assert_eq!(user.email.as_deref(), Some("ada@example.com"));
    assert_eq!(user.custom_fields[1].field_id, TovutiId(20));
    assert_eq!(user.custom_fields[1].value, json!("Lovelace"));
    assert_eq!(user.custom_fields[1].extra["title"], "Last Name");
    assert_eq!(user.user_group_ids, [TovutiId(2), TovutiId(57)]);
    assert_eq!(user.enrolled_course_ids, [TovutiId(101)]);
    assert_eq!(user.extra["registerDate"], "2026-11-02 09:12:44");
}

#[test]
fn milestone_samples_carry_course_lesson_and_award() {
    let TovutiEvent::LessonCompleted(lesson) = TovutiWebhook::parse(&fixture("lesson.completed"))
        .unwrap()
        .event
    else {
        panic!()
    };
    assert_eq!(
        (lesson.course.id, lesson.lesson.id),
        (TovutiId(101), TovutiId(7))
    );

    let TovutiEvent::EventRegistered(reg) = TovutiWebhook::parse(&fixture("event.registered"))
        .unwrap()
        .event
    else {
        panic!()
    };
    assert_eq!(reg.event.start, "2026-12-03T17:00:00Z");
    assert_eq!(reg.event.end.as_deref(), Some("2026-12-03T18:00:00Z"));
}

#[test]
fn quoted_ids_are_accepted_and_junk_ids_are_not() {
    let body = json!({"id": "e1", "type": "user.updated", "data": {"user": {"id": "42"}}});
    let parsed = TovutiWebhook::parse(body.to_string().as_bytes()).unwrap();
    assert_eq!(parsed.entity_key().as_str(), "tovuti:user:42");

    let body = json!({"id": "e1", "type": "user.updated", "data": {"user": {"id": "x"}}});
    assert!(matches!(
        TovutiWebhook::parse(body.to_string().as_bytes()),
        Err(ParseError::Shape { .. })
    ));
}

#[test]
fn unknown_types_are_kept_with_their_data() {
    let body = json!({"id": "e9", "type": "quiz.failed", "data": {"user": {"id": 5}, "quiz": 3}});

    let parsed = TovutiWebhook::parse(body.to_string().as_bytes()).unwrap();

    assert_eq!(parsed.event_type(), "quiz.failed");
    assert_eq!(parsed.entity_key().as_str(), "tovuti:user:5");
    let TovutiEvent::Unknown { data, .. } = parsed.event else {
        panic!()
    };
    assert_eq!(data["quiz"], 3);
}

#[test]
fn envelope_errors_are_reported() {
    assert!(matches!(
        TovutiWebhook::parse(b"nope"),
        Err(ParseError::Envelope(_))
    ));
    assert!(matches!(
        TovutiWebhook::parse(br#"{"type":"user.created"}"#),
        Err(ParseError::Envelope(_))
    ));
    let bad_time = br#"{"id":"e","type":"x","occurred_at":"soon","data":{}}"#;
    assert!(matches!(
        TovutiWebhook::parse(bad_time),
        Err(ParseError::BadTimestamp)
    ));
    let meta = TovutiMeta::peek(br#"{"id":"e","type":"x","data":{"big":[1,2,3]}}"#).unwrap();
    assert_eq!(meta.event_type.as_deref(), Some("x"));
}

mod properties {
    //! Arbitrary bodies are parsed or refused, never a panic; a parsed event keeps its envelope.

    use proptest::prelude::*;

    use super::*;
    use crate::platforms::arb_json;

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_are_parsed_or_refused(body in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = TovutiMeta::peek(&body);
            let _ = TovutiWebhook::parse(&body).map(|w| w.entity_key());
        }

        #[test]
        fn event_shaped_bodies_keep_their_envelope(
            id in ".{0,10}",
            event_type in prop::sample::select(TYPES.to_vec()),
            data in arb_json::object(),
            user in arb_json::object(),
            user_id in prop_oneof![(0u64..10_000).prop_map(Value::from), arb_json::value()],
            occurred_at in arb_json::value(),
        ) {
            let (mut data, mut user) = (data, user);
            user.insert("id".to_owned(), user_id);
            data.insert("user".to_owned(), Value::Object(user));
            let body = json!({"id": id, "type": event_type, "occurred_at": occurred_at, "data": data});
            let body = serde_json::to_vec(&body).unwrap_or_default();
            match TovutiWebhook::parse(&body) {
                Ok(webhook) => {
                    prop_assert_eq!(&webhook.id, &id);
                    prop_assert_eq!(webhook.event_type(), event_type);
                    let meta = TovutiMeta::peek(&body).map_err(|e| e.to_string());
                    prop_assert_eq!(meta.ok().and_then(|m| m.id), Some(id));
                    let _ = webhook.entity_key();
                }
                Err(error) => prop_assert!(!error.to_string().is_empty()),
            }
        }
    }
}
