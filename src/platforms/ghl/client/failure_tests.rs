//! The client against the fake GHL when a call fails: duplicates, refused tokens, and the
//! retries, timeouts and rate-limit pauses it spends on the way.

use std::sync::Arc;
use std::time::Duration;

use super::tests::{LOC, ada, settings, setup};
use super::*;
use crate::platforms::ErrorClass;
use crate::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings, Fault};

#[tokio::test]
async fn a_duplicate_create_reports_the_existing_contact() {
    let (_fake, ghl) = setup().await;
    let first = ghl.create_contact(&ada()).await.unwrap();
    let error = ghl.create_contact(&ada()).await.unwrap_err();
    assert_eq!(error.class(), ErrorClass::Duplicate);
    assert_eq!(
        error.failure().unwrap().duplicate_of.as_deref(),
        Some(first.id.as_str())
    );
}

#[tokio::test]
async fn revoked_and_under_scoped_tokens_are_auth_errors_and_not_retried() {
    let fake = FakeGhl::start(FakeSettings::default()).await.unwrap();
    let client = GhlClient::new(settings(fake.base_url()), Arc::new(Metrics::new())).unwrap();
    let read_only = fake.issue_token(LOC, &["contacts.readonly"]);
    let error = client
        .location(LOC, Auth::private_token(read_only))
        .create_contact(&ada())
        .await
        .unwrap_err();
    assert_eq!(
        (error.class(), error.status()),
        (ErrorClass::Forbidden, Some(403))
    );
    let revoked = fake.issue_token(LOC, ALL_SCOPES);
    fake.revoke(&revoked);
    let error = client
        .location(LOC, Auth::private_token(revoked))
        .get_contact("x")
        .await
        .unwrap_err();
    assert_eq!(
        (error.class(), error.status()),
        (ErrorClass::Unauthorized, Some(401))
    );
    assert_eq!(fake.requests().len(), 2, "auth failures are not retried");
}

#[tokio::test(start_paused = true)]
async fn a_5xx_and_a_reset_are_retried_within_the_budget() {
    let (fake, ghl) = setup().await;
    let id = ghl.create_contact(&ada()).await.unwrap().id;
    fake.inject([Fault::Status(502), Fault::Reset]);
    assert_eq!(ghl.get_contact(&id).await.unwrap().id, id);
    assert_eq!(fake.requests().len(), 4);

    fake.inject([Fault::Status(500), Fault::Status(503), Fault::Status(504)]);
    let error = ghl.get_contact(&id).await.unwrap_err();
    assert_eq!(
        (error.class(), error.status()),
        (ErrorClass::Retryable, Some(504))
    );
    assert_eq!(fake.requests().len(), 7, "three attempts in all");
}

#[tokio::test(start_paused = true)]
async fn a_hung_request_times_out_as_retryable() {
    let (fake, ghl) = setup().await;
    fake.inject([Fault::Hang, Fault::Hang, Fault::Hang]);
    let started = tokio::time::Instant::now();
    let error = ghl.get_contact("x").await.unwrap_err();
    assert!(matches!(error, GhlError::Timeout { .. }), "{error:?}");
    assert!(error.is_retryable());
    assert!(
        started.elapsed() >= Duration::from_secs(90),
        "three 30 s timeouts"
    );
}

#[tokio::test(start_paused = true)]
async fn a_429_pauses_the_lane_for_retry_after_and_is_not_a_failed_attempt() {
    let (fake, ghl) = setup().await;
    let id = ghl.create_contact(&ada()).await.unwrap().id;
    fake.inject([
        Fault::RateLimited(Duration::from_secs(7)),
        Fault::RateLimited(Duration::from_secs(7)),
    ]);
    let mut one_attempt = settings(fake.base_url());
    one_attempt.retry.max_attempts = 1;
    let client = GhlClient::new(one_attempt, Arc::new(Metrics::new())).unwrap();
    let token = fake.issue_token(LOC, ALL_SCOPES);
    let ghl_once = client.location(LOC, Auth::private_token(token));
    let started = tokio::time::Instant::now();
    assert_eq!(ghl_once.get_contact(&id).await.unwrap().id, id);
    assert!(
        started.elapsed() >= Duration::from_secs(14),
        "{:?}",
        started.elapsed()
    );
    drop(ghl);
}
