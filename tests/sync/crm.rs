//! CRM → LMS flows: contact edits, purchase tags, activity summaries, deletion and
//! uninstall.

use serde_json::{Value, json};
use tovuti_ghl_bridge::config::DEFAULT_CONNECTION;
use tovuti_ghl_bridge::platforms::tovuti::payloads::User;
use tovuti_ghl_bridge::store::{ConnectionStatus, EventStatus};

use crate::support::{Backend, Env, ghl_event, linked_ada, tovuti_event};

/// A GHL contact event about `contact` with these fields.
fn contact_event(event_type: &str, webhook_id: &str, contact: &str, fields: &Value) -> Value {
    let mut body = ghl_event(event_type, webhook_id);
    body["id"] = json!(contact);
    for (k, v) in fields.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

fn custom(user: &User, field: u64) -> Value {
    user.custom_fields
        .iter()
        .find(|f| f.field_id.0 == field)
        .map_or(Value::Null, |f| f.value.clone())
}

pub async fn a_contact_edit_updates_the_linked_tovuti_user(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let contact = linked_ada(&env).await;
    let edit = contact_event(
        "ContactUpdate",
        "wh-edit-1",
        &contact,
        &json!({"email": "ada@example.com", "companyName": "Difference Engines Ltd", "tags": []}),
    );
    let delivery = env.send_ghl(&edit).await;
    assert_eq!(delivery.status, 200);
    env.drain().await;

    let event = env.event(&delivery).await;
    assert_eq!(event.status, EventStatus::Done);
    let user = env.tovuti.user(4211).unwrap();
    assert_eq!(custom(&user, 22), json!("Difference Engines Ltd"));
    // The event log names the Tovuti requests the attempt made.
    let log = env.state.store.event_attempts(event.id).await.unwrap();
    let sent: Vec<String> = log[0]
        .requests
        .as_array()
        .unwrap()
        .iter()
        .map(|r| {
            format!(
                "{} {} {} {}",
                r["platform"], r["method"], r["path"], r["outcome"]
            )
        })
        .collect();
    assert!(
        sent.contains(&r#""tovuti" "PATCH" "/api/v1/user/4211" "200""#.to_owned()),
        "{sent:?}"
    );
    env.finish().await;
}

pub async fn a_purchase_tag_creates_enrolls_and_groups_the_learner(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let purchase = contact_event(
        "ContactTagUpdate",
        "wh-tag-1",
        "ct_grace",
        &json!({"email": "grace@example.com", "name": "Grace Hopper", "firstName": "Grace",
               "lastName": "Hopper", "tags": ["purchased:course-101"]}),
    );
    assert_eq!(env.send_ghl(&purchase).await.status, 200);
    env.drain().await;

    let users: Vec<User> = env
        .tovuti
        .users()
        .into_iter()
        .filter(|u| u.email.as_deref() == Some("grace@example.com"))
        .collect();
    assert_eq!(users.len(), 1, "{users:?}");
    let ids = |list: &[tovuti_ghl_bridge::platforms::tovuti::payloads::TovutiId]| {
        list.iter().map(|i| i.0).collect::<Vec<_>>()
    };
    assert_eq!(ids(&users[0].enrolled_course_ids), [101]);
    assert_eq!(ids(&users[0].user_group_ids), [2, 7]);
    let linked = env
        .state
        .store
        .tovuti_user_for_contact(DEFAULT_CONNECTION, "ct_grace")
        .await
        .unwrap();
    assert_eq!(linked, Some(users[0].id.0.to_string()));
    env.finish().await;
}

pub async fn crm_activity_reaches_the_tovuti_summaries(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let contact = linked_ada(&env).await;
    let mut note = ghl_event("NoteCreate", "wh-note-1");
    note["contactId"] = json!(contact);
    note["body"] = json!("Called about the invoice");
    assert_eq!(env.send_ghl(&note).await.status, 200);
    env.drain().await;

    let user = env.tovuti.user(4211).unwrap();
    assert_eq!(custom(&user, 51), json!("Called about the invoice"));
    assert_eq!(
        custom(&user, 22),
        json!("Analytical Engines"),
        "other fields kept"
    );
    env.finish().await;
}

/// "Centralize tasks and notes within Tovuti": with the shipped mapping (summaries named by
/// field name), a GHL task and a future appointment reach their Tovuti profile fields.
pub async fn tasks_and_appointments_reach_the_tovuti_summaries(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let contact = linked_ada(&env).await;
    let mut task = ghl_event("TaskCreate", "wh-task-summary");
    task["contactId"] = json!(contact);
    task["title"] = json!("Send the syllabus");
    assert_eq!(env.send_ghl(&task).await.status, 200);
    env.drain().await;
    let user = env.tovuti.user(4211).unwrap();
    assert_eq!(custom(&user, 50), json!("1 open: Send the syllabus"));

    let mut call = ghl_event("AppointmentCreate", "wh-appointment-summary");
    call["appointment"]["contactId"] = json!(contact);
    call["appointment"]["title"] = json!("Onboarding call");
    call["appointment"]["startTime"] = json!("2099-01-02T15:00:00Z");
    call["appointment"]["endTime"] = json!("2099-01-02T16:00:00Z");
    assert_eq!(env.send_ghl(&call).await.status, 200);
    env.drain().await;
    let user = env.tovuti.user(4211).unwrap();
    assert_eq!(
        custom(&user, 52),
        json!("Onboarding call at 2099-01-02T15:00:00Z")
    );
    assert_eq!(
        custom(&user, 50),
        json!("1 open: Send the syllabus"),
        "kept"
    );
    env.finish().await;
}

pub async fn contact_delete_unlinks_and_uninstall_disconnects(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let contact = linked_ada(&env).await;
    let delete = contact_event(
        "ContactDelete",
        "wh-del-1",
        &contact,
        &json!({"email": "ada@example.com"}),
    );
    assert_eq!(env.send_ghl(&delete).await.status, 200);
    env.drain().await;
    let store = &env.state.store;
    assert_eq!(
        store
            .tovuti_user_for_contact(DEFAULT_CONNECTION, &contact)
            .await
            .unwrap(),
        None
    );

    let secret = secrecy::SecretString::from("stored-token".to_owned());
    store
        .save_credentials(DEFAULT_CONNECTION, "ghl_oauth", &secret, &json!({}))
        .await
        .unwrap();
    assert_eq!(
        env.send_ghl(&ghl_event("UNINSTALL", "wh-un-1"))
            .await
            .status,
        200
    );
    env.drain().await;
    let connection = store.connection(DEFAULT_CONNECTION).await.unwrap().unwrap();
    assert_eq!(connection.status, ConnectionStatus::Disconnected);
    assert!(
        store
            .load_credentials(DEFAULT_CONNECTION, "ghl_oauth")
            .await
            .unwrap()
            .is_none()
    );
    // Nothing more is sent for a disconnected connection.
    let before = env.ghl.requests().len();
    let later = env
        .send_tovuti(&tovuti_event("note.created", "evt-late"))
        .await;
    env.drain().await;
    assert_eq!(env.event(&later).await.status, EventStatus::Ignored);
    assert_eq!(env.ghl.requests().len(), before);
    env.finish().await;
}
