//! A fresh GHL location and a fresh Tovuti tenant lack every custom field, group and
//! course the shipped mapping names: everything else still syncs, events end `done`, the
//! skipped items are in the event log and the metric, and our own write echoed back
//! without them is still recognised.

use serde_json::{Value, json};
use tovuti_ghl_bridge::sandbox::tovuti::{Known, bare_user};
use tovuti_ghl_bridge::store::{EventId, EventStatus};

use crate::support::{Backend, Env, ghl_event, tovuti_event};

/// The `SKIP` entries of an event's attempts, as "platform path outcome".
async fn skips(env: &Env, id: EventId) -> Vec<String> {
    let log = env.state.store.event_attempts(id).await.unwrap();
    log.iter()
        .flat_map(|a| a.requests.as_array().cloned().unwrap_or_default())
        .filter(|r| r["method"] == "SKIP")
        .map(|r| {
            format!(
                "{} {} {}",
                r["platform"].as_str().unwrap(),
                r["path"].as_str().unwrap(),
                r["outcome"].as_str().unwrap()
            )
        })
        .collect()
}

fn contact_event(event_type: &str, webhook_id: &str, contact: &str, fields: &Value) -> Value {
    let mut body = ghl_event(event_type, webhook_id);
    body["id"] = json!(contact);
    for (k, v) in fields.as_object().unwrap() {
        body[k] = v.clone();
    }
    body
}

pub async fn a_fresh_location_gets_the_contact_without_the_fields_it_lacks(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let delivery = env
        .send_tovuti(&tovuti_event("user.created", "evt-fresh-1"))
        .await;
    env.drain().await;

    let event = env.event(&delivery).await;
    assert_eq!(event.status, EventStatus::Done, "{event:?}");
    let contact = &env.ghl.contacts()[0];
    assert_eq!(contact["email"], "ada@example.com");
    let sent_custom: Vec<Value> = env
        .ghl
        .requests()
        .iter()
        .filter_map(|r| r.body.as_ref()?.get("customFields").cloned())
        .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
        .collect();
    assert!(
        sent_custom.is_empty(),
        "unknown fields reached GHL: {sent_custom:?}"
    );
    assert_eq!(
        skips(&env, event.id).await,
        [
            "ghl contact.lms_status skipped: not in this location",
            "ghl contact.tovuti_user_id skipped: not in this location",
        ]
    );
    let metrics = env.state.metrics.encode();
    assert!(
        metrics
            .contains(r#"bridge_sync_items_skipped_total{platform="ghl",kind="custom_field"} 2"#),
        "{metrics}"
    );
    env.finish().await;
}

pub async fn a_fresh_tenant_gets_the_learner_without_what_it_lacks(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    env.tovuti.define_only(Known::default());
    let purchase = contact_event(
        "ContactTagUpdate",
        "wh-fresh-tag",
        "ct_grace",
        &json!({"email": "grace@example.com", "firstName": "Grace", "lastName": "Hopper",
               "tags": ["purchased:course-101"]}),
    );
    let bought = env.send_ghl(&purchase).await;
    env.drain().await;
    let edit = contact_event(
        "ContactUpdate",
        "wh-fresh-edit",
        "ct_grace",
        &json!({"email": "grace@example.com", "firstName": "Grace", "lastName": "Hopper",
               "companyName": "US Navy", "tags": ["purchased:course-101"]}),
    );
    let edited = env.send_ghl(&edit).await;
    env.drain().await;

    let bought = env.event(&bought).await;
    let edited = env.event(&edited).await;
    assert_eq!(bought.status, EventStatus::Done, "{bought:?}");
    assert_eq!(edited.status, EventStatus::Done, "{edited:?}");
    let users = env.tovuti.users();
    assert_eq!(users.len(), 1, "{users:?}");
    let grace = &users[0];
    assert_eq!(grace.name.as_deref(), Some("Grace Hopper"));
    assert!(grace.user_group_ids.is_empty() && grace.enrolled_course_ids.is_empty());
    assert!(grace.custom_fields.is_empty(), "{grace:?}");
    let mut skipped = skips(&env, bought.id).await;
    skipped.sort();
    assert_eq!(
        skipped,
        [
            "tovuti course 101 skipped: not in this tenant",
            "tovuti group 2 skipped: not in this tenant",
            "tovuti group 7 skipped: not in this tenant",
        ]
    );
    assert_eq!(
        skips(&env, edited.id).await,
        ["tovuti custom field 22 skipped: not in this tenant"]
    );

    // Our own write comes back from Tovuti without the field the tenant lacks: an echo.
    let mut echo = tovuti_event("user.updated", "evt-fresh-echo");
    echo["data"]["user"] = serde_json::to_value(grace).unwrap();
    let ghl_before = env.ghl.requests().len();
    let echoed = env.send_tovuti(&echo).await;
    env.drain().await;
    assert_eq!(env.event(&echoed).await.status, EventStatus::Echo);
    let ghl_writes: Vec<String> = env.ghl.requests()[ghl_before..]
        .iter()
        .filter(|r| r.method != "GET")
        .map(|r| format!("{} {}", r.method, r.path))
        .collect();
    assert!(ghl_writes.is_empty(), "{ghl_writes:?}");
    env.finish().await;
}

pub async fn on_missing_fail_makes_the_event_dead_naming_the_items(backend: Backend) {
    let dir = tempfile::tempdir().unwrap();
    let path = dir.path().join("mapping.toml");
    let text = tovuti_ghl_bridge::mapping::EXAMPLE
        .replace("on_missing = \"skip\"", "on_missing = \"fail\"");
    std::fs::write(&path, text).unwrap();
    let file = path.display().to_string();
    let Some(env) = Env::start_with(backend, |c| c.mapping.file = file).await else {
        return;
    };
    let delivery = env
        .send_tovuti(&tovuti_event("user.created", "evt-fresh-fail"))
        .await;
    env.drain().await;

    let event = env.event(&delivery).await;
    assert_eq!(event.status, EventStatus::Dead, "{event:?}");
    let reason = event.last_error.unwrap_or_default();
    assert!(
        reason.contains("contact.lms_status — not in this location"),
        "{reason}"
    );
    assert!(env.ghl.contacts().is_empty(), "nothing was written");
    env.finish().await;
}

/// Every Tovuti answer status in an event's attempts.
async fn tovuti_statuses(env: &Env, id: EventId) -> Vec<String> {
    let log = env.state.store.event_attempts(id).await.unwrap();
    log.iter()
        .flat_map(|a| a.requests.as_array().cloned().unwrap_or_default())
        .filter(|r| r["platform"] == "tovuti" && r["method"] != "SKIP")
        .map(|r| r["outcome"].as_str().unwrap_or("").to_owned())
        .collect()
}

pub async fn a_tenant_whose_catalog_lacks_the_items_is_never_sent_them(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    // A tenant with its own field, group and course, none of them the mapping's.
    env.tovuti.clear_catalog();
    env.tovuti.insert_custom_field(99, "Shoe size");
    env.tovuti.insert_group(1, "Public");
    env.tovuti.insert_course(1, "Welcome");
    env.tovuti.define_only(Known {
        custom_fields: [99].into(),
        groups: [1].into(),
        courses: [1].into(),
    });
    let purchase = contact_event(
        "ContactTagUpdate",
        "wh-cat-tag",
        "ct_grace",
        &json!({"email": "grace@example.com", "firstName": "Grace", "lastName": "Hopper",
               "companyName": "US Navy", "tags": ["purchased:course-101"]}),
    );
    let bought = env.send_ghl(&purchase).await;
    env.drain().await;

    let bought = env.event(&bought).await;
    assert_eq!(bought.status, EventStatus::Done, "{bought:?}");
    let statuses = tovuti_statuses(&env, bought.id).await;
    assert!(
        !statuses.iter().any(|s| s == "422"),
        "an unknown id reached Tovuti: {statuses:?}"
    );
    let mut skipped = skips(&env, bought.id).await;
    skipped.sort();
    assert_eq!(
        skipped,
        [
            "tovuti course Intro to Sales skipped: not in this tenant",
            "tovuti custom field Company skipped: not in this tenant",
            "tovuti group Registered skipped: not in this tenant",
            "tovuti group Students skipped: not in this tenant",
        ]
    );
    assert_eq!(env.tovuti.users().len(), 1);
    env.finish().await;
}

pub async fn every_sample_flow_ends_done_against_fresh_platforms(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    env.tovuti.clear_catalog();
    env.tovuti.insert_custom_field(99, "Shoe size");
    env.tovuti.insert_group(1, "Public");
    env.tovuti.insert_course(1, "Welcome");
    env.tovuti.define_only(Known {
        custom_fields: [99].into(),
        groups: [1].into(),
        courses: [1].into(),
    });
    // The learner the Tovuti samples are about, as the tenant holds her.
    let mut ada = bare_user(4211);
    ada.email = Some("ada@example.com".into());
    ada.name = Some("Ada Lovelace".into());
    env.tovuti.insert_user(ada);
    let mut deliveries = Vec::new();
    for (i, kind) in tovuti_ghl_bridge::sandbox::samples::TOVUTI_TYPES
        .iter()
        .enumerate()
    {
        deliveries.push(
            env.send_tovuti(&tovuti_event(kind, &format!("evt-all-{i}")))
                .await,
        );
    }
    env.drain().await;
    let contact = env.ghl.contacts()[0]["id"].as_str().unwrap().to_owned();
    let contact_fields = json!({"email": "ada@example.com", "firstName": "Ada",
        "lastName": "Lovelace", "companyName": "Analytical Engines",
        "tags": ["purchased:course-101"]});
    for (i, (kind, tags)) in [
        ("ContactUpdate", json!([])),
        ("ContactTagUpdate", json!(["purchased:course-101"])),
    ]
    .iter()
    .enumerate()
    {
        let mut fields = contact_fields.clone();
        fields["tags"] = tags.clone();
        let body = contact_event(kind, &format!("wh-all-{i}"), &contact, &fields);
        deliveries.push(env.send_ghl(&body).await);
    }
    for (i, kind) in ["NoteCreate", "TaskCreate", "AppointmentCreate"]
        .iter()
        .enumerate()
    {
        let mut body = ghl_event(kind, &format!("wh-all-act-{i}"));
        body["contactId"] = json!(contact);
        deliveries.push(env.send_ghl(&body).await);
    }
    env.drain().await;

    for delivery in &deliveries {
        let event = env.event(delivery).await;
        assert!(
            matches!(event.status, EventStatus::Done | EventStatus::Echo),
            "{} ended {:?}: {:?}",
            event.event_type,
            event.status,
            event.last_error
        );
        let statuses = tovuti_statuses(&env, event.id).await;
        assert!(
            !statuses.iter().any(|s| s == "422"),
            "{}: {statuses:?}",
            event.event_type
        );
    }
    let sent_custom: Vec<Value> = env
        .ghl
        .requests()
        .iter()
        .filter_map(|r| r.body.as_ref()?.get("customFields").cloned())
        .filter(|c| c.as_array().is_some_and(|a| !a.is_empty()))
        .collect();
    assert!(
        sent_custom.is_empty(),
        "unknown fields reached GHL: {sent_custom:?}"
    );
    let metrics = env.state.metrics.encode();
    for kind in ["custom_field", "group", "course"] {
        let family =
            format!(r#"bridge_sync_items_skipped_total{{platform="tovuti",kind="{kind}"}}"#);
        assert!(metrics.contains(&family), "{family}: {metrics}");
    }
    env.finish().await;
}

pub async fn a_tag_removed_skips_and_records_the_groups_and_courses_the_tenant_lacks(
    backend: Backend,
) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    // The tenant has none of the rule's course and groups.
    env.tovuti.clear_catalog();
    env.tovuti.insert_group(1, "Public");
    env.tovuti.insert_course(1, "Welcome");
    env.tovuti.define_only(Known {
        custom_fields: [].into(),
        groups: [1].into(),
        courses: [1].into(),
    });
    let grace = json!({"email": "grace@example.com", "firstName": "Grace", "lastName": "Hopper",
                       "tags": ["purchased:course-101"]});
    let purchase = contact_event("ContactTagUpdate", "wh-buy", "ct_grace", &grace);
    assert_eq!(env.send_ghl(&purchase).await.status, 200);
    env.drain().await;
    assert_eq!(env.tovuti.users().len(), 1, "the purchase created Grace");
    env.tovuti.reset_log();

    // The purchase tag is removed: its rule reverses, naming a course and a group the
    // tenant lacks.
    let mut refunded = grace.clone();
    refunded["tags"] = json!([]);
    let refund = contact_event("ContactTagUpdate", "wh-refund", "ct_grace", &refunded);
    let refund = env.send_ghl(&refund).await;
    env.drain().await;

    let refund = env.event(&refund).await;
    assert_eq!(refund.status, EventStatus::Done, "{refund:?}");
    let mut skipped = skips(&env, refund.id).await;
    skipped.sort();
    assert_eq!(
        skipped,
        [
            "tovuti course Intro to Sales skipped: not in this tenant",
            "tovuti group Students skipped: not in this tenant",
        ]
    );
    let writes: Vec<_> = env
        .tovuti
        .requests()
        .into_iter()
        .filter(|(method, _)| method != "GET")
        .collect();
    assert!(writes.is_empty(), "nothing to remove is sent: {writes:?}");
    env.finish().await;
}
