//! Unit tests for GHL event parsing, driven by the official examples.

use std::path::PathBuf;

use serde_json::json;

use super::*;

/// The official examples' folder; when absent, the test stops with the message telling how to get it.
fn examples_dir() -> PathBuf {
    crate::platforms::ghl::spec_files::webhook_events()
        .unwrap_or_else(|message| panic!("{message}"))
}

fn official_examples() -> Vec<(String, Vec<u8>)> {
    let mut files: Vec<_> = std::fs::read_dir(examples_dir())
        .unwrap()
        .map(|entry| entry.unwrap().path())
        .filter(|path| path.to_string_lossy().contains(".example"))
        .map(|path| {
            let name = path.file_name().unwrap().to_string_lossy().into_owned();
            (name, std::fs::read(&path).unwrap())
        })
        .collect();
    files.sort();
    files
}

#[test]
fn every_official_example_parses_into_its_typed_event() {
    let examples = official_examples();
    // 17 event types, three of them with extra examples: a vanished folder must not pass.
    assert_eq!(
        examples.len(),
        20,
        "{:?}",
        examples.iter().map(|e| &e.0).collect::<Vec<_>>()
    );

    for (name, body) in examples {
        let declared: serde_json::Value = serde_json::from_slice(&body).unwrap();
        let parsed = GhlWebhook::parse(&body).unwrap_or_else(|e| panic!("{name}: {e:?}"));

        assert!(
            !matches!(parsed.event, GhlEvent::Unknown { .. }),
            "{name} parsed as Unknown"
        );
        assert_eq!(parsed.event_type(), declared["type"], "{name}");
        // The Appointment Update/Delete examples wrongly declare `AppointmentCreate`,
        // so the file name is checked against the variant's family only.
        let stem = name.split('.').next().unwrap();
        assert!(
            stem.starts_with(family(&parsed.event)),
            "{name} parsed as {:?}",
            parsed.event
        );
    }
}

fn family(event: &GhlEvent) -> &'static str {
    match event {
        GhlEvent::ContactCreate(_)
        | GhlEvent::ContactUpdate(_)
        | GhlEvent::ContactDelete(_)
        | GhlEvent::ContactTagUpdate(_)
        | GhlEvent::ContactDndUpdate(_) => "Contact",
        GhlEvent::NoteCreate(_) | GhlEvent::NoteUpdate(_) | GhlEvent::NoteDelete(_) => "Note",
        GhlEvent::TaskCreate(_) | GhlEvent::TaskComplete(_) | GhlEvent::TaskDelete(_) => "Task",
        GhlEvent::AppointmentCreate(_)
        | GhlEvent::AppointmentUpdate(_)
        | GhlEvent::AppointmentDelete(_) => "Appointment",
        GhlEvent::CampaignStatusUpdate(_) => "CampaignStatusUpdate",
        GhlEvent::Install(_) => "AppInstall",
        GhlEvent::Uninstall(_) => "AppUninstall",
        GhlEvent::Unknown { .. } => "(unknown)",
    }
}

#[test]
fn contact_example_keeps_its_fields_and_is_keyed_by_contact() {
    let body = std::fs::read(examples_dir().join("ContactDndUpdate.example.json")).unwrap();

    let parsed = GhlWebhook::parse(&body).unwrap();

    let GhlEvent::ContactDndUpdate(contact) = &parsed.event else {
        panic!("{parsed:?}")
    };
    assert_eq!(contact.email.as_deref(), Some("JohnDeo@gmail.comm"));
    assert_eq!(contact.tags.len(), 2);
    assert_eq!(contact.custom_fields[0].id, "BcdmQEsNgz6AVpgLVUJ0");
    assert_eq!(contact.custom_fields[0].value, json!("XYZ Corp"));
    assert_eq!(
        contact.dnd_settings.as_ref().unwrap()["Email"]["status"],
        "active"
    );
    assert_eq!(parsed.location_id.as_deref(), Some("ve9EPM428h8vShlRW1KT"));
    assert!(
        contact.extra.is_empty(),
        "shared fields must not leak into extra: {:?}",
        contact.extra
    );
    assert_eq!(
        parsed.entity_key().as_str(),
        "ghl:contact:nmFmQEsNgz6AVpgLVUJ0"
    );
}

#[test]
fn notes_tasks_and_appointments_are_keyed_by_their_contact() {
    for (file, contact) in [
        ("NoteCreate.example.json", "CWBf1PR9LvvBkcYqiXlc"),
        ("TaskComplete.example.json", "WFwVrSSjZ2CNHbZThQX2"),
        ("AppointmentCreate.example.json", "9NkT25Vor1v4aQatFsv2"),
        ("CampaignStatusUpdate.example.json", "CWBf1PR9LvvBkcYqiXlc"),
    ] {
        let parsed = GhlWebhook::parse(&std::fs::read(examples_dir().join(file)).unwrap()).unwrap();
        assert_eq!(
            parsed.entity_key().as_str(),
            format!("ghl:contact:{contact}"),
            "{file}"
        );
    }
}

#[test]
fn agency_level_install_is_keyed_by_company() {
    let body = std::fs::read(examples_dir().join("AppInstall.example.3.json")).unwrap();

    let parsed = GhlWebhook::parse(&body).unwrap();

    let GhlEvent::Install(install) = &parsed.event else {
        panic!("{parsed:?}")
    };
    assert_eq!(install.trial.as_ref().unwrap().trial_duration, Some(10.0));
    assert_eq!(parsed.location_id, None);
    assert_eq!(
        parsed.entity_key().as_str(),
        "ghl:company:otg8dTQqGLh3Q6iQI55w"
    );
}

#[test]
fn data_envelope_is_lifted_and_shared_fields_are_read() {
    let body = json!({
        "type": "NoteCreate",
        "webhookId": "wh-1",
        "timestamp": "2025-01-28T14:35:00Z",
        "data": {"locationId": "loc-1", "id": "n1", "contactId": "c1", "body": "hi"}
    });

    let parsed = GhlWebhook::parse(body.to_string().as_bytes()).unwrap();

    assert_eq!(parsed.webhook_id.as_deref(), Some("wh-1"));
    assert_eq!(parsed.location_id.as_deref(), Some("loc-1"));
    assert_eq!(parsed.timestamp.unwrap().as_second(), 1_738_074_900);
    let GhlEvent::NoteCreate(note) = parsed.event else {
        panic!()
    };
    assert_eq!(note.body.as_deref(), Some("hi"));
}

#[test]
fn unknown_type_and_unknown_fields_are_kept() {
    let body = json!({"type": "OpportunityCreate", "locationId": "l", "id": "o1", "x": 1});
    let parsed = GhlWebhook::parse(body.to_string().as_bytes()).unwrap();
    assert_eq!(parsed.event_type(), "OpportunityCreate");
    let GhlEvent::Unknown { body, .. } = &parsed.event else {
        panic!()
    };
    assert_eq!(body["x"], 1);

    let body = json!({"type": "TaskCreate", "id": "t1", "tags": null, "isLocked": true});
    let GhlEvent::TaskCreate(task) = GhlWebhook::parse(body.to_string().as_bytes())
        .unwrap()
        .event
    else {
        panic!()
    };
    assert_eq!(task.extra["isLocked"], true);
}

#[test]
fn timestamps_in_seconds_millis_and_rfc3339_agree() {
    for ts in [
        json!(1_738_074_900),
        json!(1_738_074_900_000_i64),
        json!("2025-01-28T15:35:00+01:00"),
    ] {
        let meta = GhlMeta::of(&json!({"type": "X", "timestamp": ts})).unwrap();
        assert_eq!(meta.timestamp.unwrap().as_second(), 1_738_074_900, "{ts}");
    }
    assert!(matches!(
        GhlMeta::of(&json!({"type": "X", "timestamp": "yesterday"})),
        Err(ParseError::BadTimestamp)
    ));
}

#[test]
fn shared_fields_are_read_from_a_data_envelope_as_the_full_parse_reads_them() {
    let body = json!({
        "type": "Outer", "locationId": "loc-outer", "webhookId": "wh-1",
        "data": {"type": "ContactCreate", "locationId": "loc-1", "id": "c-1"},
    });

    let meta = GhlMeta::of(&body).unwrap();
    let webhook = GhlWebhook::from_value(body).unwrap();

    assert_eq!(meta.event_type.as_deref(), Some("ContactCreate"));
    assert_eq!(meta.event_type.as_deref(), Some(webhook.event_type()));
    assert_eq!(meta.location_id.as_deref(), Some("loc-1"));
    assert_eq!(meta.location_id, webhook.location_id);
    assert_eq!(meta.webhook_id.as_deref(), Some("wh-1"));
    assert_eq!(meta.webhook_id, webhook.webhook_id);
    assert!(matches!(
        GhlMeta::of(&json!([1])),
        Err(ParseError::NotObject)
    ));
}

#[test]
fn malformed_bodies_are_told_apart() {
    assert!(matches!(
        GhlWebhook::parse(b"not json"),
        Err(ParseError::NotJson(_))
    ));
    assert!(matches!(
        GhlWebhook::parse(b"[1]"),
        Err(ParseError::NotObject)
    ));
    assert!(matches!(
        GhlWebhook::parse(b"{\"id\":\"x\"}"),
        Err(ParseError::MissingType)
    ));
    let no_id = br#"{"type":"ContactCreate","email":"a@b.c"}"#;
    assert!(matches!(
        GhlWebhook::parse(no_id),
        Err(ParseError::Shape { .. })
    ));
}

mod properties {
    //! Arbitrary bodies are parsed or refused, never a panic; a parsed event keeps its `type`.

    use proptest::prelude::*;

    use super::*;
    use crate::platforms::arb_json;

    /// Every typed event, and one type the service does not know.
    const TYPES: [&str; 18] = {
        let typed = crate::sandbox::samples::GHL_TYPES;
        let mut all = ["OpportunityCreate"; 18];
        let mut i = 0;
        while i < typed.len() {
            all[i] = typed[i];
            i += 1;
        }
        all
    };

    proptest! {
        #![proptest_config(ProptestConfig::with_cases(512))]

        #[test]
        fn arbitrary_bytes_are_parsed_or_refused(body in prop::collection::vec(any::<u8>(), 0..200)) {
            let _ = GhlWebhook::parse(&body).map(|w| w.entity_key());
        }

        #[test]
        fn event_shaped_bodies_keep_their_type(
            fields in arb_json::object_with("type", &TYPES),
            envelope in any::<bool>(),
        ) {
            let event_type = fields["type"].as_str().unwrap_or_default().to_owned();
            let body = if envelope { json!({"data": fields, "type": "ignored"}) } else { fields };
            let meta = GhlMeta::of(&body);
            match GhlWebhook::from_value(body) {
                Ok(webhook) => {
                    prop_assert_eq!(webhook.event_type(), event_type.as_str());
                    prop_assert_eq!(meta.ok().and_then(|m| m.event_type), Some(event_type));
                    let _ = webhook.entity_key();
                }
                Err(error) => prop_assert!(!error.to_string().is_empty()),
            }
        }
    }
}
