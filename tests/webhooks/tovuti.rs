//! `POST /webhooks/tovuti[/{connection}]`, the Standard Webhooks contract of
//! `docs/tovuti-webhooks.md`.

use axum::http::StatusCode;
use jiff::Timestamp;
use secrecy::SecretString;
use serde_json::json;
use tovuti_ghl_bridge::http::TOVUTI_SECRET_KIND;
use tovuti_ghl_bridge::platforms::tovuti::WebhookSecret;
use tovuti_ghl_bridge::store::{EventStatus, NewConnection, Source};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_tovuti_event_is_stored_and_keyed_by_its_learner() {
    let app = TestApp::new().await;
    let body = tovuti_body("course.completed", "evt_1");

    let answer = app
        .post_tovuti("/webhooks/tovuti", "msg_1", &body, SECRET_A)
        .await;

    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["status"], "accepted");
    let stored = app.stored(&answer).await;
    assert_eq!(
        (stored.source, stored.status),
        (Source::Tovuti, EventStatus::Pending)
    );
    assert_eq!(
        stored.external_id, "default/msg_1",
        "deduped on webhook-id, per connection"
    );
    assert_eq!(stored.entity_key.as_deref(), Some("tovuti:user:4211"));
    assert_eq!(stored.connection_id.as_deref(), Some("default"));
    assert_eq!(stored.headers["webhook-id"], "msg_1");
    let accepted = r#"bridge_webhooks_received_total{source="tovuti",type="course.completed",outcome="accepted"}"#;
    assert_eq!(app.metric(accepted), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivered_webhook_id_is_a_duplicate() {
    let app = TestApp::new().await;
    let body = tovuti_body("user.created", "evt_2");

    let first = app
        .post_tovuti("/webhooks/tovuti", "msg_2", &body, SECRET_A)
        .await;
    let again = app
        .post_tovuti("/webhooks/tovuti", "msg_2", &body, SECRET_A)
        .await;

    assert_eq!(again.status, StatusCode::OK);
    assert_eq!(again.body["status"], "duplicate");
    assert_eq!(first.event_id(), again.event_id());
    assert_eq!(app.total_events().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn during_a_rotation_both_secrets_are_accepted() {
    let app = TestApp::with(|c| {
        c.webhooks.tovuti.secrets =
            tovuti_ghl_bridge::config::OptionalSecret::new(format!("{SECRET_A} {SECRET_B}"));
    })
    .await;

    for (id, secret) in [("msg_old", SECRET_A), ("msg_new", SECRET_B)] {
        let answer = app
            .post_tovuti(
                "/webhooks/tovuti",
                id,
                &tovuti_body("user.updated", id),
                secret,
            )
            .await;
        assert_eq!(answer.status, StatusCode::OK, "{id}");
    }
    assert_eq!(app.total_events().await, 2);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn wrong_missing_and_stale_signatures_get_401() {
    let app = TestApp::new().await;
    let body = tovuti_body("user.created", "evt_3");
    let now = Timestamp::now().as_second();
    let json = vec![("content-type", "application/json".to_owned())];

    let cases = [
        ("wrong secret", tovuti_headers(SECRET_B, "m", now, &body)),
        ("missing signature", json),
        ("stale", tovuti_headers(SECRET_A, "m", now - 301, &body)),
        ("future", tovuti_headers(SECRET_A, "m", now + 301, &body)),
    ];
    for (case, headers) in cases {
        let answer = app.post("/webhooks/tovuti", &headers, body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{case}");
        assert!(is_problem(&answer));
    }
    assert_eq!(app.total_events().await, 0);
    let stale = r#"bridge_webhooks_received_total{source="tovuti",type="unverified",outcome="rejected_stale"}"#;
    assert_eq!(app.metric(stale), 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_unknown_connection_gets_the_same_401_as_a_wrong_secret() {
    let app = TestApp::new().await;

    let answer = app
        .post_tovuti(
            "/webhooks/tovuti/nobody",
            "m",
            &tovuti_body("user.created", "e"),
            SECRET_A,
        )
        .await;

    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(answer.body["detail"], "signature does not match");
    assert_eq!(app.total_events().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_named_connection_verifies_with_its_own_stored_secret_and_policy() {
    let app = TestApp::new().await;
    let connection = NewConnection {
        id: "acme".to_owned(),
        ghl_location_id: Some("loc_acme".to_owned()),
        tovuti_base_url: None,
    };
    app.state
        .store
        .upsert_connection(&connection)
        .await
        .unwrap();
    let metadata = json!({ "simple_signature": true });
    let secret = SecretString::from(SECRET_B.to_owned());
    app.state
        .store
        .save_credentials("acme", TOVUTI_SECRET_KIND, &secret, &metadata)
        .await
        .unwrap();
    let body = tovuti_body("note.created", "evt_acme");

    let standard = app
        .post_tovuti("/webhooks/tovuti/acme", "msg_acme", &body, SECRET_B)
        .await;
    let default_secret = app
        .post_tovuti("/webhooks/tovuti/acme", "msg_x", &body, SECRET_A)
        .await;
    let simple_signature = WebhookSecret::parse(SECRET_B)
        .unwrap()
        .sign_simple(body.as_bytes());
    let headers = [
        ("content-type", "application/json".to_owned()),
        ("x-signature", simple_signature),
    ];
    let simple = app
        .post("/webhooks/tovuti/acme", &headers, body.clone())
        .await;

    assert_eq!(standard.status, StatusCode::OK, "{:?}", standard.body);
    assert_eq!(
        app.stored(&standard).await.connection_id.as_deref(),
        Some("acme")
    );
    assert_eq!(
        default_secret.status,
        StatusCode::UNAUTHORIZED,
        "another connection's secret"
    );
    assert_eq!(simple.status, StatusCode::OK, "{:?}", simple.body);
    assert_eq!(
        app.stored(&simple).await.external_id,
        "acme/evt_acme",
        "no webhook-id: the envelope id"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_same_webhook_id_from_two_connections_is_two_events() {
    let app = TestApp::new().await;
    let connection = NewConnection {
        id: "acme".to_owned(),
        ghl_location_id: None,
        tovuti_base_url: None,
    };
    app.state
        .store
        .upsert_connection(&connection)
        .await
        .unwrap();
    let secret = SecretString::from(SECRET_B.to_owned());
    let metadata = json!({});
    app.state
        .store
        .save_credentials("acme", TOVUTI_SECRET_KIND, &secret, &metadata)
        .await
        .unwrap();
    let body = tovuti_body("user.created", "evt_1");

    let default = app
        .post_tovuti("/webhooks/tovuti", "evt_1", &body, SECRET_A)
        .await;
    let acme = app
        .post_tovuti("/webhooks/tovuti/acme", "evt_1", &body, SECRET_B)
        .await;

    assert_eq!(default.body["status"], "accepted");
    assert_eq!(
        acme.body["status"], "accepted",
        "not a redelivery of the other tenant's event"
    );
    assert_eq!(app.total_events().await, 2);
}
