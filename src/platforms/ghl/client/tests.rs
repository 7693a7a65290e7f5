//! The client against the fake GHL: request shapes, answers and metrics (failures are in
//! `failure_tests.rs`).

use std::sync::Arc;

use serde_json::json;

use super::*;
use crate::config::Config;
use crate::platforms::ErrorClass;
use crate::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};

pub(crate) const LOC: &str = "loc-1";

pub(crate) fn settings(base_url: String) -> ClientSettings {
    let mut config = Config::defaults().ghl;
    config.base_url = base_url;
    ClientSettings::from_config(&config)
}

pub(super) async fn setup() -> (FakeGhl, LocationApi) {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let token = fake.issue_token(LOC, ALL_SCOPES);
    let client = GhlClient::new(settings(fake.base_url()), Arc::new(Metrics::new())).unwrap();
    (fake, client.location(LOC, Auth::private_token(token)))
}

pub(super) fn ada() -> ContactInput {
    ContactInput {
        first_name: Some("Ada".into()),
        email: Some("ada@example.com".into()),
        tags: Some(vec!["learner".into()]),
        custom_fields: vec![CustomFieldInput {
            id: None,
            key: Some("contact.level".into()),
            field_value: json!("gold"),
        }],
        ..ContactInput::default()
    }
}

#[tokio::test]
async fn a_contact_round_trip_uses_the_write_shapes_and_reads_the_read_shapes() {
    let (fake, ghl) = setup().await;
    let created = ghl.create_contact(&ada()).await.unwrap();
    assert_eq!(created.tags, ["learner"]);
    assert_eq!(created.custom_fields[0].value, json!("gold"));

    let update = ContactUpdate {
        last_name: Some("Lovelace".into()),
        ..ContactUpdate::default()
    };
    let updated = ghl.update_contact(&created.id, &update).await.unwrap();
    assert_eq!(updated.last_name.as_deref(), Some("Lovelace"));
    assert_eq!(updated.tags, ["learner"], "an update never touches tags");
    let sent = fake
        .requests()
        .into_iter()
        .find(|r| r.method == "PUT")
        .unwrap();
    assert!(sent.body.unwrap().get("tags").is_none());

    let upserted = ghl.upsert_contact(&ada()).await.unwrap();
    assert!(!upserted.new);
    assert_eq!(upserted.contact.id, created.id);
    let found = ghl
        .find_duplicate(Some("ada@example.com"), None)
        .await
        .unwrap();
    assert_eq!(found.map(|c| c.id), Some(created.id.clone()));
    assert_eq!(ghl.get_contact(&created.id).await.unwrap().id, created.id);
    ghl.delete_contact(&created.id).await.unwrap();
    let gone = ghl.get_contact(&created.id).await.unwrap_err();
    assert_eq!(gone.class(), ErrorClass::NotFound);
}

#[tokio::test]
async fn search_pages_through_every_contact_with_search_after() {
    let (_fake, ghl) = setup().await;
    for n in 0..5 {
        let input = ContactInput {
            email: Some(format!("p{n}@example.com")),
            ..ContactInput::default()
        };
        ghl.create_contact(&input).await.unwrap();
    }
    let mut query = SearchQuery {
        page_limit: 2,
        ..SearchQuery::default()
    };
    let mut seen = Vec::new();
    loop {
        let page = ghl.search_contacts(&query).await.unwrap();
        assert_eq!(page.total, Some(5));
        seen.extend(page.contacts.iter().map(|c| c.email.clone().unwrap()));
        match page.next_cursor(query.page_limit) {
            Some(cursor) => query.search_after = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5);
}

#[tokio::test]
async fn a_search_for_changes_filters_on_date_updated_sorts_and_pages() {
    let (fake, ghl) = setup().await;
    let before = jiff::Timestamp::now() - jiff::SignedDuration::from_secs(1);
    let mut created = Vec::new();
    for n in 0..5 {
        let input = ContactInput {
            email: Some(format!("u{n}@example.com")),
            ..ContactInput::default()
        };
        created.push(ghl.create_contact(&input).await.unwrap().id);
    }
    // Edit the first contact again: it becomes the most recent change.
    let edit = ContactUpdate {
        first_name: Some("Late".into()),
        ..ContactUpdate::default()
    };
    ghl.update_contact(&created[0], &edit).await.unwrap();
    let mut query = SearchQuery::updated_since(before, 2);
    let mut seen = Vec::new();
    loop {
        let page = ghl.search_contacts(&query).await.unwrap();
        seen.extend(page.contacts.iter().map(|c| c.id.clone()));
        match page.next_cursor(query.page_limit) {
            Some(cursor) => query.search_after = Some(cursor),
            None => break,
        }
    }
    assert_eq!(seen.len(), 5, "each contact once: {seen:?}");
    assert_eq!(seen.last(), Some(&created[0]), "oldest change first");
    let body = fake
        .requests()
        .into_iter()
        .find(|r| r.path.ends_with("/contacts/search"))
        .and_then(|r| r.body)
        .unwrap();
    let gte = body["filters"][0]["value"]["gte"].as_str().unwrap();
    let parsed = gte.parse::<jiff::Timestamp>().unwrap();
    assert_eq!(parsed.as_millisecond(), before.as_millisecond());
    assert!(
        gte.ends_with('Z') && gte.len() == "2030-01-01T00:00:00.000Z".len(),
        "{gte}"
    );

    let later = SearchQuery::updated_since(
        jiff::Timestamp::now() + jiff::SignedDuration::from_secs(60),
        2,
    );
    assert!(
        ghl.search_contacts(&later)
            .await
            .unwrap()
            .contacts
            .is_empty()
    );
}

#[tokio::test]
async fn a_task_is_created_updated_completed_listed_and_deleted() {
    let (_fake, ghl) = setup().await;
    let contact = ghl.create_contact(&ada()).await.unwrap().id;
    let new_task = NewTask {
        title: "Follow up: finished Course X".into(),
        body: None,
        due_date: "2030-01-01T09:00:00.000Z".into(),
        completed: false,
        assigned_to: None,
    };
    let task = ghl.create_task(&contact, &new_task).await.unwrap();
    let renamed = TaskUpdate {
        title: Some("Call".into()),
        ..TaskUpdate::default()
    };
    ghl.update_task(&contact, &task.id, &renamed).await.unwrap();
    assert!(
        ghl.complete_task(&contact, &task.id, true)
            .await
            .unwrap()
            .completed
    );
    assert_eq!(
        ghl.get_task(&contact, &task.id)
            .await
            .unwrap()
            .title
            .as_deref(),
        Some("Call")
    );
    assert_eq!(ghl.list_tasks(&contact).await.unwrap().len(), 1);
    ghl.delete_task(&contact, &task.id).await.unwrap();
    assert!(ghl.list_tasks(&contact).await.unwrap().is_empty());
}

#[tokio::test]
async fn a_note_is_created_updated_read_and_deleted() {
    let (_fake, ghl) = setup().await;
    let contact = ghl.create_contact(&ada()).await.unwrap().id;

    let note = NewNote {
        body: "Called; left a message".into(),
        user_id: None,
    };
    let note = ghl.create_note(&contact, &note).await.unwrap();
    let edit = NoteUpdate {
        body: Some("Called back".into()),
        user_id: None,
    };
    ghl.update_note(&contact, &note.id, &edit).await.unwrap();
    assert_eq!(
        ghl.get_note(&contact, &note.id)
            .await
            .unwrap()
            .body
            .as_deref(),
        Some("Called back")
    );
    assert_eq!(ghl.list_notes(&contact).await.unwrap().len(), 1);
    ghl.delete_note(&contact, &note.id).await.unwrap();
    assert!(ghl.list_notes(&contact).await.unwrap().is_empty());
}

#[tokio::test]
async fn tags_are_added_and_removed_one_by_one_and_memberships_change() {
    let (fake, ghl) = setup().await;
    let contact = ghl.create_contact(&ada()).await.unwrap().id;

    let tags = ghl
        .add_tags(&contact, &["purchased:course-101".into()])
        .await
        .unwrap();
    assert_eq!(tags, ["learner", "purchased:course-101"]);
    let tags = ghl
        .remove_tags(&contact, &["learner".into()])
        .await
        .unwrap();
    assert_eq!(tags, ["purchased:course-101"]);
    ghl.add_to_campaign(&contact, "camp-1").await.unwrap();
    ghl.add_to_workflow(&contact, "wf-1", None).await.unwrap();
    assert!(fake.is_member(false, &contact, "camp-1") && fake.is_member(true, &contact, "wf-1"));
    ghl.remove_from_campaign(&contact, "camp-1").await.unwrap();
    ghl.remove_from_workflow(&contact, "wf-1").await.unwrap();
    assert!(!fake.is_member(false, &contact, "camp-1") && !fake.is_member(true, &contact, "wf-1"));
}

#[tokio::test]
async fn appointments_go_through_the_calendars_version_and_show_on_the_contact() {
    let (fake, ghl) = setup().await;
    let contact = ghl.create_contact(&ada()).await.unwrap().id;
    let new = NewAppointment {
        calendar_id: "cal-1".into(),
        contact_id: contact.clone(),
        start_time: "2030-01-01T09:00:00+00:00".into(),
        end_time: Some("2030-01-01T10:00:00+00:00".into()),
        title: Some("Onboarding session".into()),
        appointment_status: None,
        assigned_user_id: None,
        address: None,
        ignore_free_slot_validation: Some(true),
    };
    let event = ghl.create_appointment(&new).await.unwrap();
    let moved = AppointmentUpdate {
        start_time: Some("2030-01-02T09:00:00+00:00".into()),
        ..AppointmentUpdate::default()
    };
    ghl.update_appointment(&event.id, &moved).await.unwrap();
    let read = ghl.get_appointment(&event.id).await.unwrap();
    assert_eq!(
        read.start_time.as_deref(),
        Some("2030-01-02T09:00:00+00:00")
    );
    assert_eq!(ghl.contact_appointments(&contact).await.unwrap().len(), 1);
    for request in fake.requests() {
        let expected = if request.path.starts_with("/calendars") {
            VERSION_CALENDARS
        } else {
            VERSION_CONTACTS
        };
        assert_eq!(
            request.version.as_deref(),
            Some(expected),
            "{}",
            request.path
        );
        let agent = request.user_agent.unwrap_or_default();
        assert!(agent.starts_with("tovuti-ghl-bridge/"), "{agent}");
    }
}

#[tokio::test]
async fn each_request_is_counted_by_operation_and_outcome() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let metrics = Arc::new(Metrics::new());
    let client = GhlClient::new(settings(fake.base_url()), metrics.clone()).unwrap();
    let ghl = client.location(LOC, Auth::private_token(fake.issue_token(LOC, ALL_SCOPES)));
    ghl.create_contact(&ada()).await.unwrap();
    ghl.get_contact("missing").await.unwrap_err();
    let text = metrics.encode();
    assert!(
        text.contains(r#"bridge_ghl_requests_total{connection="default",endpoint="contacts.create",outcome="2xx"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"bridge_ghl_requests_total{connection="default",endpoint="contacts.get",outcome="404"} 1"#),
        "{text}"
    );
    assert!(
        text.contains(r#"bridge_ghl_daily_remaining{location="loc-1"} 199998"#),
        "{text}"
    );
}
