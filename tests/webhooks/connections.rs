//! `POST /webhooks/tovuti/{connection}` under a flood of unsigned requests to made-up
//! connection names: answered like any wrong signature, and no memory kept for them.

use axum::http::StatusCode;

use crate::support::*;

/// Unsigned deliveries to many distinct names that could be connections, then to one
/// that could never be one (60 KB): every one is a 401, and none is remembered.
async fn unknown_names_are_refused_and_not_remembered(app: &TestApp) {
    let body = tovuti_body("user.created", "e");
    let headers = [("content-type", "application/json".to_owned())];

    for i in 0..500 {
        let path = format!("/webhooks/tovuti/ghl-flood{i:05}");
        let answer = app.post(&path, &headers, body.clone()).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{path}");
    }
    let long = format!("/webhooks/tovuti/{}", "n".repeat(60 * 1024));
    let answer = app.post(&long, &headers, body.clone()).await;

    assert_eq!(answer.status, StatusCode::UNAUTHORIZED);
    assert_eq!(app.state.webhooks.cached_connections(), 0);
    assert_eq!(app.total_events().await, 0);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_to_unknown_connections_leaves_nothing_cached_on_sqlite() {
    let app = TestApp::new().await;
    unknown_names_are_refused_and_not_remembered(&app).await;
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_flood_to_unknown_connections_leaves_nothing_cached_on_postgres() {
    let Some(app) = TestApp::postgres().await else {
        return;
    };
    unknown_names_are_refused_and_not_remembered(&app).await;
    app.finish().await;
}

/// A name outside the connection-name pattern is refused before any store lookup: with
/// the store gone it still gets the plain 401, while a well-formed unknown name, which
/// must be looked up, gets the 429 that asks the sender to retry.
#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_malformed_connection_name_is_refused_without_a_store_lookup() {
    let app = TestApp::new().await;
    let body = tovuti_body("user.created", "e");
    app.state.store.close().await;

    for name in [
        "n".repeat(65),
        "-lead".to_owned(),
        "a.b".to_owned(),
        "a%20b".to_owned(),
    ] {
        let path = format!("/webhooks/tovuti/{name}");
        let answer = app.post_tovuti(&path, "m", &body, SECRET_A).await;
        assert_eq!(answer.status, StatusCode::UNAUTHORIZED, "{name}");
        assert_eq!(answer.body["detail"], "signature does not match", "{name}");
    }
    let looked_up = app
        .post_tovuti("/webhooks/tovuti/ghl-Loc42", "m", &body, SECRET_A)
        .await;
    assert_eq!(looked_up.status, StatusCode::TOO_MANY_REQUESTS);
}
