//! `verify` against the fake: a full token, one without `contacts.write`, a revoked one.

use std::sync::Arc;

use super::tests::settings;
use super::*;
use crate::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};

const LOC: &str = "loc-1";

async fn verify_with(fake: &FakeGhl, token: String) -> Verification {
    verify_needs(fake, token, &Needs::everything()).await
}

async fn verify_needs(fake: &FakeGhl, token: String, needs: &Needs) -> Verification {
    let client = GhlClient::new(settings(fake.base_url()), Arc::new(Metrics::new())).unwrap();
    client
        .location(LOC, Auth::private_token(token))
        .verify(None, needs)
        .await
}

async fn fake_with_a_contact() -> FakeGhl {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let token = fake.issue_token(LOC, ALL_SCOPES);
    let client = GhlClient::new(settings(fake.base_url()), Arc::new(Metrics::new())).unwrap();
    let input = ContactInput {
        email: Some("sample@example.com".into()),
        ..ContactInput::default()
    };
    let ghl = client.location(LOC, Auth::private_token(token));
    ghl.create_contact(&input).await.unwrap();
    fake
}

#[tokio::test]
async fn a_full_token_passes_every_check_and_shows_a_sample_and_the_limits() {
    let fake = fake_with_a_contact().await;
    let report = verify_with(&fake, fake.issue_token(LOC, ALL_SCOPES)).await;
    assert!(report.all_ok(), "{report:#?}");
    let names: Vec<_> = report.capabilities.iter().map(|c| c.name).collect();
    assert_eq!(
        names,
        [
            "contacts.search",
            "contacts.write",
            "tags.write",
            "campaigns.add",
            "workflows.add",
            "tasks.write",
            "notes.write",
            "campaigns.list",
            "workflows.list",
            "custom_fields.list",
            "appointments.read",
            "appointments.write",
            "contacts.get",
            "tasks.list",
            "notes.list",
            "appointments.for_contact",
        ]
    );
    let sample = report.sample.unwrap();
    assert_eq!(sample.email.as_deref(), Some("sample@example.com"));
    let limits = report.rate_limits.unwrap();
    assert_eq!((limits.max, limits.interval_ms), (Some(100), Some(10_000)));
}

#[tokio::test]
async fn a_token_without_contacts_write_is_reported_as_missing_that_scope() {
    let fake = fake_with_a_contact().await;
    let scopes = ["contacts.readonly", "locations/customFields.readonly"];
    let report = verify_with(&fake, fake.issue_token(LOC, &scopes)).await;
    assert!(!report.all_ok());
    let missing = Verdict::Forbidden {
        missing_scope: "contacts.write",
    };
    assert_eq!(report.outcome("contacts.write"), Some(&missing));
    assert_eq!(report.outcome("contacts.search"), Some(&Verdict::Ok));
    assert_eq!(report.outcome("notes.list"), Some(&Verdict::Ok));
    assert_eq!(
        report.outcome("contacts.write").unwrap().to_string(),
        "forbidden (missing scope contacts.write)"
    );
}

#[tokio::test]
async fn a_revoked_token_is_unauthorized_everywhere() {
    let fake = fake_with_a_contact().await;
    let token = fake.issue_token(LOC, ALL_SCOPES);
    fake.revoke(&token);
    let report = verify_with(&fake, token).await;
    assert!(!report.all_ok());
    for capability in &report.capabilities {
        let expected = [
            Verdict::Unauthorized,
            Verdict::Skipped("no contact to sample"),
        ];
        assert!(expected.contains(&capability.outcome), "{capability:?}");
    }
    assert_eq!(
        report.outcome("contacts.search"),
        Some(&Verdict::Unauthorized)
    );
}

#[tokio::test]
async fn only_what_is_needed_is_checked_and_unsampled_reads_are_not_verified() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let report = verify_needs(&fake, fake.issue_token(LOC, ALL_SCOPES), &Needs::default()).await;
    let names: Vec<_> = report.capabilities.iter().map(|c| c.name).collect();
    assert_eq!(names, ["contacts.search", "contacts.write", "contacts.get"]);
    assert_eq!(
        report.outcome("contacts.get"),
        Some(&Verdict::Skipped(NO_SAMPLE))
    );
    assert!(!report.all_ok() && report.none_failed());
    assert_eq!(report.untested().count(), 1);
}

#[tokio::test]
async fn a_401_about_scope_is_a_missing_scope_and_a_403_about_the_location_says_so() {
    let fake = fake_with_a_contact().await;
    fake.refuse_scopes_with_401();
    let needs = Needs {
        appointments: true,
        ..Needs::default()
    };
    let token = fake.issue_token(LOC, &["contacts.readonly", "contacts.write"]);
    let report = verify_needs(&fake, token, &needs).await;
    let missing = |scope| Verdict::Forbidden {
        missing_scope: scope,
    };
    assert_eq!(
        report.outcome("appointments.write"),
        Some(&missing("calendars/events.write"))
    );
    assert_eq!(
        report.outcome("appointments.read"),
        Some(&missing("calendars/events.readonly"))
    );
    assert_eq!(report.outcome("contacts.get"), Some(&Verdict::Ok));

    let needs = Needs {
        custom_fields: true,
        ..Needs::default()
    };
    let report = verify_needs(&fake, fake.issue_token("elsewhere", ALL_SCOPES), &needs).await;
    assert_eq!(
        report.outcome("custom_fields.list"),
        Some(&Verdict::NoLocationAccess)
    );
    assert_eq!(
        Verdict::NoLocationAccess.to_string(),
        "forbidden (no access to this location)"
    );
}
