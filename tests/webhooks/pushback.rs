//! When the service cannot take an event it answers 429 with Retry-After, never 5xx:
//! GHL redelivers only on 429.

use axum::http::StatusCode;

use crate::support::*;

fn assert_throttled(answer: &Answer, retry_after: &str) {
    assert_eq!(
        answer.status,
        StatusCode::TOO_MANY_REQUESTS,
        "{:?}",
        answer.body
    );
    assert_eq!(answer.headers["retry-after"], retry_after);
    assert!(is_problem(answer));
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_store_failure_answers_429_with_retry_after() {
    let app = TestApp::with(|c| c.webhooks.retry_after_secs = 42).await;
    app.state.store.close().await;

    let ghl = app
        .post_ghl(&ghl_body("ContactCreate", LOCATION, "wh_down"))
        .await;
    let tovuti = app
        .post_tovuti(
            "/webhooks/tovuti",
            "evt_down",
            &tovuti_body("user.created", "evt_down"),
            SECRET_A,
        )
        .await;

    assert_throttled(&ghl, "42");
    assert_throttled(&tovuti, "42");
    let throttled =
        r#"bridge_webhooks_received_total{source="ghl",type="ContactCreate",outcome="throttled"}"#;
    assert_eq!(app.metric(throttled), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_draining_service_answers_429_and_stores_nothing() {
    let app = TestApp::new().await;
    app.state.shutdown.cancel();

    let answer = app
        .post_ghl(&ghl_body("ContactCreate", LOCATION, "wh_drain"))
        .await;

    assert_throttled(&answer, "60");
    assert_eq!(app.total_events().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_inbox_over_its_bound_answers_429() {
    let app = TestApp::with(|c| c.webhooks.max_backlog = 2).await;
    for n in 0..2 {
        let answer = app
            .post_ghl(&ghl_body("ContactCreate", LOCATION, &format!("wh_{n}")))
            .await;
        assert_eq!(answer.status, StatusCode::OK);
    }

    let third = app
        .post_ghl(&ghl_body("ContactCreate", LOCATION, "wh_2"))
        .await;

    assert_throttled(&third, "60");
    assert_eq!(app.total_events().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn ignored_events_do_not_count_against_the_bound() {
    let app = TestApp::with(|c| c.webhooks.max_backlog = 1).await;

    for n in 0..3 {
        let answer = app
            .post_ghl(&ghl_body(
                "ContactCreate",
                "loc_unknown",
                &format!("wh_{n}"),
            ))
            .await;
        assert_eq!(answer.body["status"], "ignored");
    }
}
