//! Creates whose answer was lost after the platform made the record: the client sends
//! them once, the event retries on the worker's schedule, and the next attempt finds
//! what the lost one made instead of making a second.

use std::time::Duration;

use serde_json::{Value, json};
use tovuti_ghl_bridge::sandbox::ghl::{Fault, Target};
use tovuti_ghl_bridge::store::{EventStatus, Millis};

use crate::support::{Backend, Delivery, Env, ghl_event, tovuti_event};

/// The client's own retry budget as shipped (3 attempts), and a GHL timeout short
/// enough for a hung answer to cost little.
async fn env_with_in_call_retries(backend: Backend) -> Option<Env> {
    Env::start_with(backend, |config| {
        config.ghl.retry_attempts = 3;
        config.ghl.timeout_ms = 2_000;
        config.tovuti.timeout_ms = 2_000;
    })
    .await
}

/// Steps the worker through the first attempt and the retries the test schedule
/// (5 s, then 60 s) allows; the event must be finished by then.
async fn run_with_retries(env: &Env, delivery: &Delivery) -> Value {
    let t0 = Millis::now();
    for later in [0, 5, 65] {
        env.drain_at(t0.plus(Duration::from_secs(later))).await;
    }
    let event = env.event(delivery).await;
    assert_eq!(event.status, EventStatus::Done, "{event:?}");
    let log = env.state.store.event_attempts(event.id).await.unwrap();
    let outcomes: Vec<&str> = log.iter().map(|a| a.outcome.as_str()).collect();
    assert_eq!(outcomes, ["retry", "done"], "{log:?}");
    log[1].requests.clone()
}

/// Platform, method and path of each request an attempt made (`ghl POST /contacts/…`).
fn calls(requests: &Value) -> Vec<String> {
    let text = |r: &Value, key: &str| r[key].as_str().unwrap_or_default().to_owned();
    requests
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            let (platform, method) = (text(r, "platform"), text(r, "method"));
            format!("{platform} {method} {}", text(r, "path"))
        })
        .collect()
}

fn ada_id(env: &Env) -> String {
    let contacts = env.ghl.contacts();
    let ada: Vec<&Value> = contacts
        .iter()
        .filter(|c| c["email"] == "ada@example.com")
        .collect();
    assert_eq!(ada.len(), 1, "{contacts:?}");
    ada[0]["id"].as_str().unwrap().to_owned()
}

/// Sends `event_type`, makes the fake apply the first `route` call and lose its answer
/// with `fault`, and checks one record of `kind` results, adopted by the retry.
async fn one_record_after_a_lost_answer(
    backend: Backend,
    event_type: &str,
    route: &str,
    fault: Fault,
    kind: &str,
) {
    let Some(env) = env_with_in_call_retries(backend).await else {
        return;
    };
    env.ghl.inject_on(&Target::route(route), [fault]);
    let delivery = env.send_tovuti(&tovuti_event(event_type, "evt-lost")).await;
    let retry = calls(&run_with_retries(&env, &delivery).await);

    let records = env.ghl.activities(kind, &ada_id(&env));
    assert_eq!(records.len(), 1, "{records:?}");
    let singular = kind.trim_end_matches('s');
    assert!(
        !retry
            .iter()
            .any(|c| c.starts_with("ghl POST") && c.contains(singular)),
        "the retry adopted the record instead of creating it: {retry:?}"
    );
    env.finish().await;
}

pub async fn a_note_made_whose_answer_timed_out_is_made_once(backend: Backend) {
    let fault = Fault::AppliedThenHang;
    one_record_after_a_lost_answer(
        backend,
        "note.created",
        "POST /contacts/*/notes",
        fault,
        "notes",
    )
    .await;
}

pub async fn a_task_made_whose_answer_was_reset_is_made_once(backend: Backend) {
    let route = "POST /contacts/*/tasks";
    let fault = Fault::AppliedThenReset;
    one_record_after_a_lost_answer(backend, "course.completed", route, fault, "tasks").await;
}

pub async fn an_appointment_made_whose_answer_was_reset_is_made_once(backend: Backend) {
    let route = "POST /calendars/events/appointments";
    let fault = Fault::AppliedThenReset;
    one_record_after_a_lost_answer(backend, "event.registered", route, fault, "events").await;
}

pub async fn a_tovuti_user_made_whose_answer_was_lost_is_made_once(backend: Backend) {
    let Some(env) = env_with_in_call_retries(backend).await else {
        return;
    };
    env.tovuti
        .inject_on(&Target::route("POST /user"), [Fault::AppliedThenHang]);
    let mut purchase = ghl_event("ContactTagUpdate", "wh-tag-lost");
    for (key, value) in [
        ("id", json!("ct_grace")),
        ("email", json!("grace@example.com")),
        ("firstName", json!("Grace")),
        ("lastName", json!("Hopper")),
        ("tags", json!(["purchased:course-101"])),
    ] {
        purchase[key] = value;
    }
    let delivery = env.send_ghl(&purchase).await;
    let retry = calls(&run_with_retries(&env, &delivery).await);

    let grace: Vec<_> = env
        .tovuti
        .users()
        .into_iter()
        .filter(|u| u.email.as_deref() == Some("grace@example.com"))
        .collect();
    assert_eq!(grace.len(), 1, "{grace:?}");
    assert_eq!(grace[0].enrolled_course_ids.len(), 1, "{grace:?}");
    assert!(
        !retry.iter().any(|c| c.starts_with("tovuti POST")),
        "{retry:?}"
    );
    env.finish().await;
}
