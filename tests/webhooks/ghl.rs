//! `POST /webhooks/ghl`.

use axum::http::StatusCode;
use jiff::Timestamp;
use tovuti_ghl_bridge::store::{EventStatus, Source};

use crate::support::*;

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_signed_ghl_event_is_stored_before_it_is_acknowledged() {
    let app = TestApp::new().await;
    let body = ghl_body("ContactCreate", LOCATION, "wh_1");

    let answer = app.post_ghl(&body).await;

    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(answer.body["status"], "accepted");
    let stored = app.stored(&answer).await;
    assert_eq!(
        (stored.source, stored.status),
        (Source::Ghl, EventStatus::Pending)
    );
    assert_eq!(stored.external_id, "wh_1");
    assert_eq!(stored.event_type, "ContactCreate");
    assert_eq!(stored.connection_id.as_deref(), Some("default"));
    assert_eq!(
        stored.entity_key.as_deref(),
        Some("ghl:contact:tc_sample_contact")
    );
    assert_eq!(
        stored.body,
        body.as_bytes(),
        "the raw bytes are kept exactly"
    );
    assert_eq!(stored.headers["signature-scheme"], "ed25519");
    let accepted =
        r#"bridge_webhooks_received_total{source="ghl",type="ContactCreate",outcome="accepted"}"#;
    assert_eq!(app.metric(accepted), 1.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_redelivery_is_acknowledged_as_a_duplicate_without_a_second_row() {
    let app = TestApp::new().await;
    let body = ghl_body("NoteCreate", LOCATION, "wh_dup");

    let first = app.post_ghl(&body).await;
    let second = app.post_ghl(&body).await;

    assert_eq!(
        (first.status, second.status),
        (StatusCode::OK, StatusCode::OK)
    );
    assert_eq!(second.body["status"], "duplicate");
    assert_eq!(first.event_id(), second.event_id());
    assert_eq!(app.total_events().await, 1);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_deliveries_of_one_webhook_make_one_row_and_a_hundred_200s() {
    hundred_concurrent_deliveries(TestApp::new().await).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_hundred_concurrent_deliveries_make_one_row_on_postgres_too() {
    if let Some(app) = TestApp::postgres().await {
        hundred_concurrent_deliveries(app).await;
    }
}

async fn hundred_concurrent_deliveries(app: TestApp) {
    let app = std::sync::Arc::new(app);
    let body = ghl_body("ContactUpdate", LOCATION, "wh_storm");

    let deliveries = (0..100).map(|_| {
        let (app, body) = (app.clone(), body.clone());
        tokio::spawn(async move { app.post_ghl(&body).await })
    });
    let answers = futures::future::join_all(deliveries).await;

    let ids: std::collections::HashSet<_> = answers
        .into_iter()
        .map(|answer| {
            let answer = answer.unwrap();
            assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
            answer.event_id()
        })
        .collect();
    assert_eq!(ids.len(), 1, "every answer names the same stored event");
    assert_eq!(app.total_events().await, 1);
    let Ok(app) = std::sync::Arc::try_unwrap(app) else {
        panic!("requests still hold the app")
    };
    app.finish().await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn bad_or_missing_signatures_get_401_and_nothing_is_stored() {
    let app = TestApp::new().await;
    let body = ghl_body("ContactCreate", LOCATION, "wh_bad");
    let tampered = body.replacen("Ada", "Eve", 1);
    let good = ghl_headers(&keys().ed25519, &body);
    let wrong_key = ghl_headers(&keys().other_ed25519, &body);
    let json = ("content-type", "application/json".to_owned());
    let mut bad_ed_good_rsa = wrong_key.clone();
    bad_ed_good_rsa.push(("x-wh-signature", rsa_signature(&body)));

    let cases = [
        ("tampered byte", good.clone(), tampered),
        ("wrong key", wrong_key, body.clone()),
        ("missing header", vec![json], body.clone()),
        ("bad Ed25519 with good RSA", bad_ed_good_rsa, body.clone()),
    ];
    for (case, headers, sent) in cases {
        let answer = app.post("/webhooks/ghl", &headers, sent).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{case}");
        assert!(is_problem(&answer), "{case}: {:?}", answer.body);
    }

    assert_eq!(app.total_events().await, 0);
    let rejected = r#"bridge_webhooks_received_total{source="ghl",type="unverified",outcome="rejected_signature"}"#;
    assert_eq!(app.metric(rejected), 4.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn stale_and_future_timestamps_get_401_and_are_counted_as_stale() {
    let app = TestApp::new().await;
    let now = Timestamp::now().as_second();

    for offset in [-301, 301] {
        let at = Timestamp::from_second(now + offset).unwrap();
        let body = format!(
            r#"{{"type":"NoteCreate","locationId":"{LOCATION}","id":"n","webhookId":"w{offset}","timestamp":"{at}"}}"#
        );
        let answer = app.post_ghl(&body).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "offset {offset}");
    }

    assert_eq!(app.total_events().await, 0);
    let stale = r#"bridge_webhooks_received_total{source="ghl",type="unverified",outcome="rejected_stale"}"#;
    assert_eq!(app.metric(stale), 2.0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn the_legacy_rsa_signature_counts_only_without_the_ed25519_header_and_while_enabled() {
    let body = ghl_body("TaskCreate", LOCATION, "wh_rsa");
    let headers = vec![
        ("content-type", "application/json".to_owned()),
        ("x-wh-signature", rsa_signature(&body)),
    ];

    let enabled = TestApp::new().await;
    let answer = enabled.post("/webhooks/ghl", &headers, body.clone()).await;
    assert_eq!(answer.status, StatusCode::OK, "{:?}", answer.body);
    assert_eq!(
        enabled.stored(&answer).await.headers["signature-scheme"],
        "rsa-sha256"
    );

    let disabled = TestApp::with(|c| c.webhooks.ghl.legacy_rsa = false).await;
    let answer = disabled.post("/webhooks/ghl", &headers, body).await;
    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn unknown_locations_and_unknown_types_are_stored_as_ignored() {
    let app = TestApp::new().await;

    let elsewhere = app
        .post_ghl(&ghl_body("ContactCreate", "loc_unknown", "wh_a"))
        .await;
    let novel = app
        .post_ghl(&ghl_body("OpportunityCreate", LOCATION, "wh_b"))
        .await;

    for (answer, why) in [
        (&elsewhere, "unknown location"),
        (&novel, "unknown event type"),
    ] {
        assert_eq!(answer.status, StatusCode::OK);
        assert_eq!(answer.body["status"], "ignored");
        let stored = app.stored(answer).await;
        assert_eq!(stored.status, EventStatus::Ignored);
        assert_eq!(stored.last_error.as_deref(), Some(why));
    }
    assert_eq!(
        app.metric(
            r#"bridge_webhooks_received_total{source="ghl",type="other",outcome="ignored"}"#
        ),
        1.0
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn an_app_install_for_a_location_not_yet_connected_is_processed() {
    let app = TestApp::new().await;

    let answer = app
        .post_ghl(&ghl_body("INSTALL", "loc_new", "wh_install"))
        .await;

    assert_eq!(answer.body["status"], "accepted");
    assert_eq!(
        app.stored(&answer).await.entity_key.as_deref(),
        Some("ghl:location:loc_new")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genuine_body_that_is_not_json_is_stored_and_answered_400() {
    let app = TestApp::new().await;

    let answer = app.post_ghl("definitely not json").await;

    assert_eq!(answer.status, StatusCode::BAD_REQUEST);
    assert!(is_problem(&answer));
    assert_eq!(
        app.count(EventStatus::Ignored).await,
        1,
        "stored for an operator"
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_genuine_event_that_does_not_parse_is_stored_and_marked() {
    let app = TestApp::new().await;
    let no_id =
        format!(r#"{{"type":"ContactCreate","locationId":"{LOCATION}","webhookId":"wh_shape"}}"#);

    let answer = app.post_ghl(&no_id).await;

    assert_eq!(answer.status, StatusCode::OK);
    assert_eq!(answer.body["status"], "unparseable");
    let stored = app.stored(&answer).await;
    assert_eq!(stored.status, EventStatus::Ignored);
    assert!(
        stored
            .last_error
            .unwrap()
            .starts_with("unparseable: ContactCreate")
    );
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_wrong_content_type_gets_415_and_an_oversize_body_413() {
    let app = TestApp::with(|c| c.server.body_limit_bytes = 512).await;
    let body = ghl_body("NoteCreate", LOCATION, "wh_ct");
    let mut as_form = ghl_headers(&keys().ed25519, &body);
    as_form[0].1 = "application/x-www-form-urlencoded".to_owned();
    let big = format!(r#"{{"type":"NoteCreate","pad":"{}"}}"#, "x".repeat(1024));

    let wrong_type = app.post("/webhooks/ghl", &as_form, body).await;
    let too_big = app.post_ghl(&big).await;

    assert_eq!(wrong_type.status, StatusCode::UNSUPPORTED_MEDIA_TYPE);
    assert_eq!(too_big.status, StatusCode::PAYLOAD_TOO_LARGE);
    assert!(
        is_problem(&wrong_type) && is_problem(&too_big),
        "{:?} {:?}",
        wrong_type.body,
        too_big.body
    );
    assert_eq!(app.total_events().await, 0);
}
