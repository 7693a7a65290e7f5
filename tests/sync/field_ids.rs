//! A GHL custom field deleted and recreated under the same key (so with a new id) while
//! the service runs with the old id in its cached field list: GHL accepts the next write
//! naming the old id and stores nothing; the service sees the field missing from the
//! contact GHL returns, reads the field list again, and writes the value under the new id.

use serde_json::Value;
use tovuti_ghl_bridge::store::EventStatus;

use crate::support::{Backend, Env, tovuti_event};

const IDENTITY_KEY: &str = "contact.tovuti_user_id";

/// The location's only contact: Ada's (the update renames her and changes her email).
fn ada(env: &Env) -> Value {
    let contacts = env.ghl.contacts();
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    contacts[0].clone()
}

/// The value Ada's contact holds under custom field `id`.
fn value_of(contact: &Value, id: &str) -> Option<Value> {
    contact["customFields"]
        .as_array()?
        .iter()
        .find(|f| f["id"] == id)
        .map(|f| f["value"].clone())
}

pub async fn a_custom_field_recreated_in_ghl_is_written_under_its_new_id(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let old_id = env.ghl.define_custom_field(IDENTITY_KEY, "Tovuti user id");
    let created = env
        .send_tovuti(&tovuti_event("user.created", "evt-ada-created"))
        .await;
    env.drain().await;
    assert_eq!(env.event(&created).await.status, EventStatus::Done);
    let before = ada(&env);
    assert!(value_of(&before, &old_id).is_some(), "{before}");

    let new_id = env.ghl.recreate_custom_field(IDENTITY_KEY).unwrap();
    assert_eq!(value_of(&ada(&env), &new_id), None);

    let updated = env
        .send_tovuti(&tovuti_event("user.updated", "evt-ada-updated"))
        .await;
    env.drain().await;

    assert_eq!(env.event(&updated).await.status, EventStatus::Done);
    let after = ada(&env);
    let value = value_of(&after, &new_id).unwrap_or_else(|| panic!("{after}"));
    assert_eq!(
        value
            .as_str()
            .map(str::to_owned)
            .unwrap_or(value.to_string()),
        "4211"
    );
    env.finish().await;
}

/// A worker starting on a backlog: every event in flight finds the field list not read
/// yet. One of them reads it; the others wait for it instead of each spending a request
/// of the location's quota on the same list.
pub async fn events_in_flight_on_a_cold_cache_read_the_field_list_once(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    env.ghl.define_custom_field(IDENTITY_KEY, "Tovuti user id");
    for learner in 0..8_u64 {
        let mut body = tovuti_event("user.created", &format!("evt-cold-{learner}"));
        body["data"]["user"]["id"] = serde_json::json!(5000 + learner);
        body["data"]["user"]["email"] = serde_json::json!(format!("cold{learner}@example.com"));
        env.send_tovuti(&body).await;
    }
    env.drain().await;
    assert_eq!(env.ghl.contacts().len(), 8);
    let list_reads = env
        .ghl
        .requests()
        .iter()
        .filter(|r| r.method == "GET" && r.path.ends_with("/customFields"))
        .count();
    assert_eq!(list_reads, 1, "{:?}", env.ghl.requests());
    env.finish().await;
}
