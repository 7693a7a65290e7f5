//! A proptest strategy for JSON shaped like webhook bodies, shared by the parsing and planning
//! property tests. Objects are keyed mostly by the field names the payloads read and strings
//! are often dates, emails or event types, so generated bodies get past the first missing
//! field into the typed payloads and the mapping.

use proptest::prelude::*;
use serde_json::{Map, Value};

/// Field names of both platforms' payloads, in the spellings their serde attributes read.
const KEYS: &[&str] = &[
    "id",
    "type",
    "data",
    "user",
    "email",
    "name",
    "firstName",
    "lastName",
    "phone",
    "tags",
    "customFields",
    "custom_fields",
    "field_id",
    "value",
    "key",
    "status",
    "course",
    "lesson",
    "award",
    "event",
    "note",
    "call",
    "title",
    "body",
    "contactId",
    "locationId",
    "webhookId",
    "timestamp",
    "occurred_at",
    "dueDate",
    "startTime",
    "endTime",
    "dateOfBirth",
    "dnd",
    "dndSettings",
    "companyName",
    "companyId",
    "appointment",
    "calendarId",
    "userId",
    "completed_at",
    "enrolled_at",
    "earned_at",
    "started_at",
    "start",
    "end",
    "score",
    "duration_seconds",
    "userGroupIds",
    "enrolledCourseIds",
    "assignedTo",
    "address1",
    "country",
    "timezone",
    "source",
    "website",
    "appointmentStatus",
    "templateId",
    "url",
    "kind",
];

/// Strings the parsers and the example mapping give meaning to.
const TEXTS: &[&str] = &[
    "",
    "user.created",
    "user.updated",
    "enrollment.created",
    "course.completed",
    "lesson.completed",
    "award.earned",
    "note.created",
    "call.recorded",
    "event.registered",
    "ContactCreate",
    "ContactUpdate",
    "ContactDelete",
    "ContactTagUpdate",
    "ContactDndUpdate",
    "NoteCreate",
    "TaskCreate",
    "TaskComplete",
    "AppointmentCreate",
    "AppointmentUpdate",
    "CampaignStatusUpdate",
    "INSTALL",
    "UNINSTALL",
    "ada@example.com",
    "not an email",
    "+14155550123",
    "2026-11-29T07:06:40Z",
    "2026-11-29",
    "9999-12-31T23:59:59Z",
    "-009999-01-01T00:00:00Z",
    "2026-02-30",
    "1764400000",
    "active",
    "inactive",
    "true",
];

fn leaf() -> impl Strategy<Value = Value> {
    prop_oneof![
        Just(Value::Null),
        any::<bool>().prop_map(Value::Bool),
        any::<i64>().prop_map(Value::from),
        any::<u64>().prop_map(Value::from),
        (0i64..100_000).prop_map(Value::from),
        any::<f64>().prop_map(Value::from),
        prop::sample::select(TEXTS).prop_map(Value::from),
        ".{0,12}".prop_map(Value::from),
    ]
}

fn key() -> impl Strategy<Value = String> {
    prop_oneof![
        4 => prop::sample::select(KEYS).prop_map(str::to_owned),
        1 => "[a-zA-Z_]{0,8}",
    ]
}

/// Any JSON value, up to four levels deep.
pub(crate) fn value() -> impl Strategy<Value = Value> {
    leaf().prop_recursive(4, 48, 6, |inner| {
        prop_oneof![
            prop::collection::vec(inner.clone(), 0..4).prop_map(Value::Array),
            prop::collection::vec((key(), inner), 0..6)
                .prop_map(|pairs| Value::Object(pairs.into_iter().collect::<Map<_, _>>())),
        ]
    })
}

/// A JSON object with a few fields.
pub(crate) fn object() -> impl Strategy<Value = Map<String, Value>> {
    prop::collection::vec((key(), value()), 0..8).prop_map(|pairs| pairs.into_iter().collect())
}

/// A JSON object whose `key` is one of `texts` (usually an event type), with other fields
/// beside it.
pub(crate) fn object_with(
    key: &'static str,
    texts: &'static [&'static str],
) -> impl Strategy<Value = Value> {
    (prop::sample::select(texts), object()).prop_map(move |(text, mut object)| {
        object.insert(key.to_owned(), Value::from(text));
        Value::Object(object)
    })
}
