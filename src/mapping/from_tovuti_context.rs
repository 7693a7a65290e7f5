//! The template variables of a Tovuti event (`docs/mapping.md` lists them): the event's objects
//! flattened into plain JSON, the same names whatever the event type.

use serde_json::{Map, Value, json};

use super::transform::split_name;
use crate::platforms::tovuti::payloads::{Course, User};
use crate::platforms::tovuti::{TovutiEvent, TovutiWebhook};

fn user(u: &User) -> Value {
    let (first, last) = u.name.as_deref().map_or((None, None), split_name);
    json!({
        "id": u.id.0, "name": u.name, "first_name": first, "last_name": last,
        "email": u.email, "username": u.username, "status": u.status,
    })
}

fn course(c: Option<&Course>) -> Value {
    c.map_or(Value::Null, |c| json!({"id": c.id.0, "title": c.title}))
}

/// The variables for one Tovuti event.
pub fn context(wh: &TovutiWebhook) -> Map<String, Value> {
    let mut ctx = Map::new();
    ctx.insert(
        "event".to_owned(),
        json!({"id": wh.id, "type": wh.event_type(),
               "occurred_at": wh.occurred_at.map(|t| t.to_string())}),
    );
    if let Some(u) = wh.event.user() {
        ctx.insert("user".to_owned(), user(u));
    }
    for (k, v) in event_values(&wh.event) {
        ctx.insert(k.to_owned(), v);
    }
    ctx
}

fn event_values(event: &TovutiEvent) -> Vec<(&'static str, Value)> {
    match event {
        TovutiEvent::EnrollmentCreated(d) => vec![("course", course(Some(&d.course)))],
        TovutiEvent::CourseCompleted(d) => {
            vec![
                ("course", course(Some(&d.course))),
                ("score", json!(d.score)),
                ("progress", json!(100)),
            ]
        }
        TovutiEvent::LessonCompleted(d) => vec![
            ("course", course(Some(&d.course))),
            (
                "lesson",
                json!({"id": d.lesson.id.0, "title": d.lesson.title}),
            ),
            ("progress", progress(&d.extra)),
        ],
        TovutiEvent::AwardEarned(d) => vec![
            ("course", course(d.course.as_ref())),
            (
                "award",
                json!({"id": d.award.id.0, "title": d.award.title, "type": d.award.kind, "url": d.award.url}),
            ),
        ],
        TovutiEvent::NoteCreated(d) => vec![(
            "note",
            json!({"id": d.note.id.0, "body": d.note.body, "author": d.note.author,
                   "title": d.note.extra.get("title"), "kind": d.note.extra.get("kind")}),
        )],
        TovutiEvent::CallRecorded(d) => vec![
            ("call", serde_json::to_value(&d.call).unwrap_or(Value::Null)),
            (
                "note",
                json!({"title": d.call.title, "body": d.call.transcript, "author": d.call.recorded_by}),
            ),
        ],
        TovutiEvent::EventRegistered(d) => vec![(
            "registration",
            json!({"id": d.registration_id.map(|r| r.0), "event_id": d.event.id.0,
                   "title": d.event.title, "start": d.event.start, "end": d.event.end,
                   "location": d.event.location, "timezone": d.event.timezone}),
        )],
        _ => Vec::new(),
    }
}

/// Course progress in percent, where the sender includes it (`progress` in the event data).
pub fn progress(extra: &Map<String, Value>) -> Value {
    match extra.get("progress") {
        Some(Value::Number(n)) => Value::Number(n.clone()),
        Some(Value::String(s)) => s
            .trim()
            .trim_end_matches('%')
            .parse::<f64>()
            .map_or(Value::Null, |f| json!(f)),
        _ => Value::Null,
    }
}
