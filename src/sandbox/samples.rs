//! Sample webhook bodies for `send-test-event`, the benchmark and tests.
//!
//! GHL samples follow the official examples' shapes; Tovuti samples are the fixtures under
//! `tests/fixtures/tovuti/`, so the documented contract, the tests and the tool share one copy.

use jiff::Timestamp;
use serde_json::{Value, json};

/// Every GHL type with a typed event; other names get a minimal body (stored as `ignored`).
pub const GHL_TYPES: [&str; 17] = [
    "ContactCreate",
    "ContactUpdate",
    "ContactDelete",
    "ContactTagUpdate",
    "ContactDndUpdate",
    "NoteCreate",
    "NoteUpdate",
    "NoteDelete",
    "TaskCreate",
    "TaskComplete",
    "TaskDelete",
    "AppointmentCreate",
    "AppointmentUpdate",
    "AppointmentDelete",
    "CampaignStatusUpdate",
    "INSTALL",
    "UNINSTALL",
];

pub const TOVUTI_TYPES: [&str; 9] = [
    "user.created",
    "user.updated",
    "enrollment.created",
    "course.completed",
    "lesson.completed",
    "award.earned",
    "note.created",
    "call.recorded",
    "event.registered",
];

/// A GHL body of `event_type` for `location_id`, carrying `webhook_id` and `now`.
pub fn ghl(event_type: &str, location_id: &str, webhook_id: &str, now: Timestamp) -> Value {
    let contact = "tc_sample_contact";
    let mut body = match event_type {
        t if t.starts_with("Contact") => json!({
            "id": contact, "firstName": "Ada", "lastName": "Lovelace", "name": "Ada Lovelace",
            "email": "ada@example.com", "phone": "+15555550100", "dnd": false,
            "tags": ["sample"], "customFields": [], "dateAdded": now.to_string(),
        }),
        t if t.starts_with("Note") => {
            json!({"id": "tn_sample", "contactId": contact, "body": "Sample note", "dateAdded": now.to_string()})
        }
        t if t.starts_with("Task") => json!({
            "id": "tt_sample", "contactId": contact, "title": "Follow up", "body": "Sample task",
            "dueDate": now.to_string(), "dateAdded": now.to_string(),
        }),
        t if t.starts_with("Appointment") => json!({"appointment": {
            "id": "ta_sample", "calendarId": "cal_sample", "contactId": contact, "title": "Sample call",
            "appointmentStatus": "confirmed", "startTime": now.to_string(), "endTime": now.to_string(),
        }}),
        "CampaignStatusUpdate" => {
            json!({"id": "tcs_sample", "contactId": contact, "status": "paused", "templateId": "tpl_sample"})
        }
        "INSTALL" => {
            json!({"appId": "app_sample", "companyId": "co_sample", "installType": "Location"})
        }
        "UNINSTALL" => json!({"appId": "app_sample"}),
        _ => json!({"id": "sample"}),
    };
    if let Value::Object(fields) = &mut body {
        fields.insert("type".to_owned(), json!(event_type));
        fields.insert("locationId".to_owned(), json!(location_id));
        fields.insert("webhookId".to_owned(), json!(webhook_id));
        fields.insert("timestamp".to_owned(), json!(now.to_string()));
    }
    body
}

/// A Tovuti envelope of `event_type` with id `id` at `now`; unknown types get empty `data`.
pub fn tovuti(event_type: &str, id: &str, now: Timestamp) -> Value {
    let fixture = match event_type {
        "user.created" => include_str!("../../tests/fixtures/tovuti/user.created.json"),
        "user.updated" => include_str!("../../tests/fixtures/tovuti/user.updated.json"),
        "enrollment.created" => include_str!("../../tests/fixtures/tovuti/enrollment.created.json"),
        "course.completed" => include_str!("../../tests/fixtures/tovuti/course.completed.json"),
        "lesson.completed" => include_str!("../../tests/fixtures/tovuti/lesson.completed.json"),
        "award.earned" => include_str!("../../tests/fixtures/tovuti/award.earned.json"),
        "note.created" => include_str!("../../tests/fixtures/tovuti/note.created.json"),
        "call.recorded" => include_str!("../../tests/fixtures/tovuti/call.recorded.json"),
        "event.registered" => include_str!("../../tests/fixtures/tovuti/event.registered.json"),
        _ => r#"{"data": {}}"#,
    };
    // The fixtures are checked by the parser tests; a broken one yields an empty object here
    // rather than a panic in a user-facing tool.
    let mut body: Value = serde_json::from_str(fixture).unwrap_or_else(|_| json!({}));
    if let Value::Object(fields) = &mut body {
        fields.insert("id".to_owned(), json!(id));
        fields.insert("type".to_owned(), json!(event_type));
        fields.insert("occurred_at".to_owned(), json!(now.to_string()));
    }
    body
}

#[cfg(test)]
mod tests {
    use super::*;
    use crate::platforms::ghl::{GhlEvent, GhlWebhook};
    use crate::platforms::tovuti::{TovutiEvent, TovutiWebhook};

    #[test]
    fn every_ghl_sample_parses_into_its_typed_event() {
        for event_type in GHL_TYPES {
            let body = ghl(event_type, "loc_1", "wh_1", Timestamp::now()).to_string();
            let parsed = GhlWebhook::parse(body.as_bytes())
                .unwrap_or_else(|e| panic!("{event_type}: {e:?}"));
            assert_eq!(parsed.event_type(), event_type);
            assert!(!matches!(parsed.event, GhlEvent::Unknown { .. }));
            assert_eq!(parsed.webhook_id.as_deref(), Some("wh_1"));
        }
    }

    #[test]
    fn every_tovuti_sample_parses_into_its_typed_event() {
        for event_type in TOVUTI_TYPES {
            let body = tovuti(event_type, "evt_1", Timestamp::now()).to_string();
            let parsed = TovutiWebhook::parse(body.as_bytes())
                .unwrap_or_else(|e| panic!("{event_type}: {e:?}"));
            assert_eq!(
                (parsed.event_type(), parsed.id.as_str()),
                (event_type, "evt_1")
            );
            assert!(!matches!(parsed.event, TovutiEvent::Unknown { .. }));
        }
    }
}
