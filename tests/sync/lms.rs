//! LMS → CRM flows: enrollments, milestones, notes, calls and registrations.

use serde_json::{Value, json};
use tovuti_ghl_bridge::config::DEFAULT_CONNECTION;
use tovuti_ghl_bridge::store::EventStatus;

use tovuti_ghl_bridge::sandbox::wiring::EXAMPLE_WORKFLOW_ID;

use crate::support::{Backend, Env, tovuti_event};

/// The one contact the fake holds for ada@example.com.
fn ada(env: &Env) -> Value {
    let contacts: Vec<Value> = env
        .ghl
        .contacts()
        .into_iter()
        .filter(|c| c["email"] == "ada@example.com")
        .collect();
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    contacts[0].clone()
}

pub async fn an_enrollment_upserts_the_contact_with_fields_and_tags(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let delivery = env
        .send_tovuti(&tovuti_event("enrollment.created", "evt-enroll-1"))
        .await;
    assert_eq!(delivery.status, 200);
    assert_eq!(env.drain().await, 1);

    assert_eq!(env.event(&delivery).await.status, EventStatus::Done);
    let contact = ada(&env);
    let tags: Vec<&str> = contact["tags"]
        .as_array()
        .unwrap()
        .iter()
        .filter_map(Value::as_str)
        .collect();
    assert!(tags.contains(&"lms:enrolled"), "{tags:?}");
    assert!(tags.contains(&"course-101:enrolled"), "{tags:?}");
    assert_eq!(contact["firstName"], "Ada");
    let linked = env
        .state
        .store
        .ghl_contact_for_user(DEFAULT_CONNECTION, "4211")
        .await
        .unwrap();
    assert_eq!(linked.as_deref(), contact["id"].as_str());
    let id = contact["id"].as_str().unwrap();
    assert!(
        env.ghl.is_member(true, id, EXAMPLE_WORKFLOW_ID),
        "the shipped mapping's enrollment rule names its workflow by name"
    );
    env.finish().await;
}

/// A rule naming a workflow the location lacks skips it, recorded, and the rest is done.
pub async fn an_enrollment_skips_a_workflow_the_location_lacks(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    env.ghl.clear_automations();
    let delivery = env
        .send_tovuti(&tovuti_event("enrollment.created", "evt-enroll-nowf"))
        .await;
    env.drain().await;

    let event = env.event(&delivery).await;
    assert_eq!(event.status, EventStatus::Done, "{event:?}");
    let log = env.state.store.event_attempts(event.id).await.unwrap();
    let skips: Vec<String> = log
        .iter()
        .flat_map(|a| a.requests.as_array().cloned().unwrap_or_default())
        .filter(|r| r["method"] == "SKIP")
        .filter(|r| r["path"].as_str().unwrap().starts_with("workflow"))
        .map(|r| {
            format!(
                "{} {}",
                r["path"].as_str().unwrap(),
                r["outcome"].as_str().unwrap()
            )
        })
        .collect();
    assert_eq!(
        skips,
        ["workflow \"New enrollment\" skipped: not in this location"]
    );
    let contact = ada(&env);
    let id = contact["id"].as_str().unwrap();
    assert!(!env.ghl.is_member(true, id, EXAMPLE_WORKFLOW_ID));
    let metrics = env.state.metrics.encode();
    let family = r#"bridge_sync_items_skipped_total{platform="ghl",kind="workflow"} 1"#;
    assert!(metrics.contains(family), "{metrics}");
    env.finish().await;
}

pub async fn milestones_become_tasks_and_notes(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    for (event_type, id) in [
        ("user.created", "evt-u"),
        ("course.completed", "evt-cc"),
        ("note.created", "evt-note"),
        ("call.recorded", "evt-call"),
    ] {
        assert_eq!(
            env.send_tovuti(&tovuti_event(event_type, id)).await.status,
            200
        );
    }
    env.drain().await;

    let contact = ada(&env);
    let id = contact["id"].as_str().unwrap();
    let tasks = env.ghl.activities("tasks", id);
    assert_eq!(tasks.len(), 1, "{tasks:?}");
    let title = tasks[0]["title"].as_str().unwrap();
    assert!(
        title.contains("Follow up: Ada Lovelace finished Course 101"),
        "{title}"
    );
    let notes = env.ghl.activities("notes", id);
    assert_eq!(notes.len(), 2, "{notes:?}");
    assert!(
        notes
            .iter()
            .any(|n| n["body"].as_str().unwrap().starts_with("LMS note"))
    );
    assert!(
        notes
            .iter()
            .any(|n| n["body"].as_str().unwrap().starts_with("Recorded call"))
    );
    env.finish().await;
}

pub async fn a_registration_books_one_appointment_and_moves_it(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let first = tovuti_event("event.registered", "evt-reg-1");
    assert_eq!(env.send_tovuti(&first).await.status, 200);
    env.drain().await;
    let mut moved = tovuti_event("event.registered", "evt-reg-2");
    moved["data"]["event"]["start"] = json!("2026-12-04T17:00:00Z");
    moved["data"]["event"]["end"] = json!("2026-12-04T18:00:00Z");
    assert_eq!(env.send_tovuti(&moved).await.status, 200);
    env.drain().await;

    let contact = ada(&env);
    let appointments = env
        .ghl
        .activities("events", contact["id"].as_str().unwrap());
    assert_eq!(appointments.len(), 1, "{appointments:?}");
    let booked = &appointments[0];
    assert_eq!(booked["calendarId"], "replace-with-your-calendar-id");
    assert!(
        booked["startTime"]
            .as_str()
            .unwrap()
            .starts_with("2026-12-04"),
        "{booked}"
    );
    env.finish().await;
}
