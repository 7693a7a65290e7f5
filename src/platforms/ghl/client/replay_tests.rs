//! A create is sent once: a failure after which GHL may have made the record is an
//! unknown outcome, never a blind second POST; reads and upserts still retry in-call.

use std::sync::Arc;

use super::tests::settings;
use super::*;
use crate::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings, Fault, Target};

const LOC: &str = "loc-1";

async fn setup() -> (FakeGhl, LocationApi, String) {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let token = fake.issue_token(LOC, ALL_SCOPES);
    let client = GhlClient::new(settings(fake.base_url()), Arc::new(Metrics::new())).unwrap();
    let ghl = client.location(LOC, Auth::private_token(token));
    let input = ContactInput {
        email: Some("ada@example.com".into()),
        ..ContactInput::default()
    };
    let contact = ghl.upsert_contact(&input).await.unwrap().contact.id;
    (fake, ghl, contact)
}

fn note() -> NewNote {
    NewNote {
        body: "Called; left a message".into(),
        user_id: None,
    }
}

fn sent(fake: &FakeGhl, method: &str, suffix: &str) -> usize {
    let requests = fake.requests();
    requests
        .iter()
        .filter(|r| r.method == method && r.path.ends_with(suffix))
        .count()
}

/// Creates a note while `fault` meets the first POST; returns the error, the POSTs
/// GHL saw and the notes it holds.
async fn note_create_meeting(fault: Fault) -> (GhlError, usize, usize) {
    let (fake, ghl, contact) = setup().await;
    fake.inject_on(&Target::route("POST /contacts/*/notes"), [fault]);
    let error = ghl.create_note(&contact, &note()).await.unwrap_err();
    let notes = fake.activities("notes", &contact).len();
    (error, sent(&fake, "POST", "/notes"), notes)
}

#[tokio::test(start_paused = true)]
async fn a_note_whose_answer_was_reset_after_it_was_made_is_not_sent_again() {
    let (error, posts, notes) = note_create_meeting(Fault::AppliedThenReset).await;
    assert!(error.is_outcome_unknown(), "{error:?}");
    assert!(error.to_string().contains("outcome unknown"), "{error}");
    assert!(
        error.is_retryable(),
        "the worker tries again, reconciling first"
    );
    assert_eq!((posts, notes), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_note_whose_answer_timed_out_after_it_was_made_is_not_sent_again() {
    let (error, posts, notes) = note_create_meeting(Fault::AppliedThenHang).await;
    assert!(error.is_outcome_unknown(), "{error:?}");
    assert!(error.to_string().contains("did not answer"), "{error}");
    assert_eq!((posts, notes), (1, 1));
}

#[tokio::test(start_paused = true)]
async fn a_task_or_appointment_answered_502_by_a_proxy_is_not_sent_again() {
    let (fake, ghl, contact) = setup().await;
    fake.inject_on(&Target::Writes, [Fault::Status(502), Fault::Status(504)]);
    let task = NewTask {
        title: "Follow up".into(),
        body: None,
        due_date: "2030-01-01T09:00:00.000Z".into(),
        completed: false,
        assigned_to: None,
    };
    let error = ghl.create_task(&contact, &task).await.unwrap_err();
    assert!(error.is_outcome_unknown(), "{error:?}");
    assert_eq!(error.status(), Some(502));
    let appointment = NewAppointment {
        calendar_id: "cal-1".into(),
        contact_id: contact.clone(),
        start_time: "2030-01-01T09:00:00+00:00".into(),
        end_time: None,
        title: Some("Onboarding".into()),
        appointment_status: None,
        assigned_user_id: None,
        address: None,
        ignore_free_slot_validation: Some(true),
    };
    let error = ghl.create_appointment(&appointment).await.unwrap_err();
    assert!(error.is_outcome_unknown(), "{error:?}");
    assert_eq!(sent(&fake, "POST", "/tasks"), 1);
    assert_eq!(sent(&fake, "POST", "/appointments"), 1);
}

#[tokio::test(start_paused = true)]
async fn a_create_refused_before_it_was_handled_is_retried_in_call() {
    let (fake, ghl, contact) = setup().await;
    let notes = Target::route("POST /contacts/*/notes");
    fake.inject_on(&notes, [Fault::Status(503), Fault::Status(429)]);
    ghl.create_note(&contact, &note()).await.unwrap();
    assert_eq!(sent(&fake, "POST", "/notes"), 3);
    assert_eq!(fake.activities("notes", &contact).len(), 1);
}

#[tokio::test(start_paused = true)]
async fn reads_and_upserts_whose_answer_was_lost_are_retried_in_call() {
    let (fake, ghl, contact) = setup().await;
    fake.inject_on(&Target::route("GET /contacts/*"), [Fault::Hang]);
    assert_eq!(ghl.get_contact(&contact).await.unwrap().id, contact);
    // The hung request is never answered (nor logged); the second one is.
    assert_eq!(fake.faults_injected(), 1);
    assert_eq!(sent(&fake, "GET", &contact), 1);

    fake.inject_on(
        &Target::route("POST /contacts/upsert"),
        [Fault::AppliedThenReset],
    );
    let input = ContactInput {
        email: Some("ada@example.com".into()),
        first_name: Some("Ada".into()),
        ..ContactInput::default()
    };
    let upserted = ghl.upsert_contact(&input).await.unwrap();
    assert_eq!(upserted.contact.id, contact);
    assert_eq!(sent(&fake, "POST", "/upsert"), 3, "the setup's, then two");
    assert_eq!(fake.contacts().len(), 1);
}

#[tokio::test(start_paused = true)]
async fn a_create_that_could_not_connect_was_never_sent_and_is_not_ambiguous() {
    let closed = std::net::TcpListener::bind("127.0.0.1:0").unwrap();
    let base = format!("http://{}", closed.local_addr().unwrap());
    drop(closed);
    let client = GhlClient::new(settings(base), Arc::new(Metrics::new())).unwrap();
    let ghl = client.location(LOC, Auth::private_token("pit-x"));
    let error = ghl.create_note("c-1", &note()).await.unwrap_err();
    assert!(matches!(error, GhlError::Unreachable { .. }), "{error:?}");
    assert!(!error.may_have_applied() && error.is_retryable());
}
