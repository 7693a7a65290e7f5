//! Every request the GHL client can send, checked against GHL's official v2 spec by a
//! Prism mock (`.ci/prism.sh` starts it and sets `PRISM_URL`). Prism answers 422 to a
//! request that violates the spec; its 2xx bodies are the spec's examples, which may
//! not decode into our types — only the request is under test here.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

use std::sync::Arc;

use serde_json::json;
use tovuti_ghl_bridge::config::Config;
use tovuti_ghl_bridge::platforms::ghl::client::{
    AppointmentUpdate, Auth, AutomationKind, ClientSettings, ContactInput, ContactUpdate,
    CustomFieldInput, GhlClient, GhlError, LocationApi, Needs, NewAppointment, NewNote, NewTask,
    NoteUpdate, SearchQuery, TaskUpdate,
};
use tovuti_ghl_bridge::telemetry::Metrics;

fn prism() -> Option<LocationApi> {
    let Ok(url) = std::env::var("PRISM_URL") else {
        eprintln!("PRISM_URL is not set; skipping the GHL contract test (run .ci/prism.sh)");
        return None;
    };
    let mut config = Config::defaults().ghl;
    config.base_url = url;
    config.retry_attempts = 1;
    let client = GhlClient::new(
        ClientSettings::from_config(&config),
        Arc::new(Metrics::new()),
    );
    Some(
        client
            .unwrap()
            .location("ve9EPM428h8vShlRW1KT", Auth::private_token("pit-contract")),
    )
}

/// The request was accepted: a 2xx (whatever its example body) and never a 4xx.
fn accepted<T>(operation: &str, result: Result<T, GhlError>) {
    match result {
        Ok(_) | Err(GhlError::Decode { .. }) => {}
        Err(error) => panic!("{operation}: the official spec refused the request: {error}"),
    }
}

fn contact_input() -> ContactInput {
    ContactInput {
        first_name: Some("Ada".into()),
        last_name: Some("Lovelace".into()),
        email: Some("ada@example.com".into()),
        phone: Some("+14155550100".into()),
        source: Some("tovuti".into()),
        tags: Some(vec!["learner".into()]),
        custom_fields: vec![CustomFieldInput {
            id: Some("6dvNaf7VhkQ9snc5vnjJ".into()),
            key: Some("contact.level".into()),
            field_value: json!("gold"),
        }],
        ..ContactInput::default()
    }
}

#[tokio::test]
async fn every_contact_operation_is_accepted_by_the_official_spec() {
    let Some(ghl) = prism() else { return };
    let id = "ocQHyuzHvysMo5N5VsXc";
    accepted(
        "contacts.create",
        ghl.create_contact(&contact_input()).await,
    );
    accepted(
        "contacts.upsert",
        ghl.upsert_contact(&contact_input()).await,
    );
    accepted("contacts.get", ghl.get_contact(id).await);
    let update = ContactUpdate {
        last_name: Some("Byron".into()),
        custom_fields: contact_input().custom_fields,
        ..ContactUpdate::default()
    };
    accepted("contacts.update", ghl.update_contact(id, &update).await);
    let query = SearchQuery {
        page_limit: 20,
        search_after: Some(vec![json!(1_700_000_000_000_u64), json!(id)]),
        ..SearchQuery::default()
    };
    accepted("contacts.search", ghl.search_contacts(&query).await);
    // The reconciliation sweep's search: a dateUpdated range, sorted, then paged.
    let since = jiff::Timestamp::from_second(1_700_000_000).unwrap();
    let mut sweep = SearchQuery::updated_since(since, 100);
    accepted("contacts.search (sweep)", ghl.search_contacts(&sweep).await);
    sweep.search_after = Some(vec![json!("2023-11-14T22:13:20.000Z"), json!(id)]);
    accepted(
        "contacts.search (sweep page)",
        ghl.search_contacts(&sweep).await,
    );
    accepted(
        "contacts.duplicate",
        ghl.find_duplicate(Some("ada@example.com"), Some("+14155550100"))
            .await,
    );
    accepted("contacts.delete", ghl.delete_contact(id).await);
}

#[tokio::test]
async fn every_task_and_note_operation_is_accepted_by_the_official_spec() {
    let Some(ghl) = prism() else { return };
    let (contact, task, note) = (
        "ocQHyuzHvysMo5N5VsXc",
        "ocQHyuzHvysMo5N5VsXd",
        "ocQHyuzHvysMo5N5VsXe",
    );
    let new_task = NewTask {
        title: "Follow up: finished Course X".into(),
        body: Some("Ask about the next course".into()),
        due_date: "2030-07-08T02:30:00.000Z".into(),
        completed: false,
        assigned_to: None,
    };
    accepted("tasks.create", ghl.create_task(contact, &new_task).await);
    accepted("tasks.list", ghl.list_tasks(contact).await);
    accepted("tasks.get", ghl.get_task(contact, task).await);
    let edit = TaskUpdate {
        title: Some("Call".into()),
        ..TaskUpdate::default()
    };
    accepted("tasks.update", ghl.update_task(contact, task, &edit).await);
    accepted(
        "tasks.complete",
        ghl.complete_task(contact, task, true).await,
    );
    accepted("tasks.delete", ghl.delete_task(contact, task).await);
    let new_note = NewNote {
        body: "Completed Course X".into(),
        user_id: None,
    };
    accepted("notes.create", ghl.create_note(contact, &new_note).await);
    accepted("notes.list", ghl.list_notes(contact).await);
    accepted("notes.get", ghl.get_note(contact, note).await);
    let edit = NoteUpdate {
        body: Some("Completed Course X with honours".into()),
        user_id: None,
    };
    accepted("notes.update", ghl.update_note(contact, note, &edit).await);
    accepted("notes.delete", ghl.delete_note(contact, note).await);
}

#[tokio::test]
async fn every_membership_and_appointment_operation_is_accepted_by_the_official_spec() {
    let Some(ghl) = prism() else { return };
    let contact = "ocQHyuzHvysMo5N5VsXc";
    let tags = ["purchased:course-101".to_owned()];
    accepted("tags.add", ghl.add_tags(contact, &tags).await);
    accepted("tags.remove", ghl.remove_tags(contact, &tags).await);
    accepted(
        "campaigns.add",
        ghl.add_to_campaign(contact, "camp-1").await,
    );
    accepted(
        "campaigns.remove",
        ghl.remove_from_campaign(contact, "camp-1").await,
    );
    accepted(
        "workflows.add",
        ghl.add_to_workflow(contact, "wf-1", Some("2030-06-23T03:30:00+01:00"))
            .await,
    );
    accepted(
        "workflows.remove",
        ghl.remove_from_workflow(contact, "wf-1").await,
    );
    // Rules may name campaigns and workflows by name, looked up in these lists.
    accepted(
        "campaigns.list",
        ghl.automations(AutomationKind::Campaign).await,
    );
    accepted(
        "workflows.list",
        ghl.automations(AutomationKind::Workflow).await,
    );
    let new = NewAppointment {
        calendar_id: "CVokAlI8fgw4WYWoCtQz".into(),
        contact_id: contact.into(),
        start_time: "2030-06-23T03:30:00+05:30".into(),
        end_time: Some("2030-06-23T04:30:00+05:30".into()),
        title: Some("Onboarding session".into()),
        appointment_status: Some("confirmed".into()),
        assigned_user_id: None,
        address: None,
        ignore_free_slot_validation: Some(true),
    };
    accepted("appointments.create", ghl.create_appointment(&new).await);
    let moved = AppointmentUpdate {
        title: Some("Moved".into()),
        ..AppointmentUpdate::default()
    };
    accepted(
        "appointments.update",
        ghl.update_appointment("ev-1", &moved).await,
    );
    accepted("appointments.get", ghl.get_appointment("ev-1").await);
    accepted(
        "appointments.for_contact",
        ghl.contact_appointments(contact).await,
    );
}

/// GHL's prose says "pass either `id` or `key`", but the official schema requires `id`:
/// mappings should resolve keys to ids (from the location's custom fields) before writing.
#[tokio::test]
async fn a_custom_field_written_by_key_alone_is_refused_by_the_official_schema() {
    let Some(ghl) = prism() else { return };
    let input = ContactInput {
        custom_fields: vec![CustomFieldInput {
            id: None,
            key: Some("contact.level".into()),
            field_value: json!("gold"),
        }],
        ..ContactInput::default()
    };
    let error = ghl.create_contact(&input).await.unwrap_err();
    assert_eq!(error.status(), Some(422));
}

#[tokio::test]
async fn creating_a_contact_custom_field_is_accepted_by_the_official_spec() {
    let Some(ghl) = prism() else { return };
    let created = ghl.create_contact_custom_field("Job Title", "TEXT").await;
    accepted("locations.customFields.create", created);
}

#[tokio::test]
async fn verify_sends_only_requests_the_official_spec_accepts() {
    let Some(ghl) = prism() else { return };
    let report = ghl
        .verify(Some("ocQHyuzHvysMo5N5VsXc"), &Needs::everything())
        .await;
    for capability in &report.capabilities {
        let text = capability.outcome.to_string();
        assert!(!text.contains("422"), "{}: {text}", capability.name);
    }
}
