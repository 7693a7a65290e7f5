//! The layer stack: request ids, problem+json for layer errors, body limit, panics.

use axum::Router;
use axum::body::Body;
use axum::http::Request;
use axum::routing::{get, post};
use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::http::middleware;
use tovuti_ghl_bridge::startup;
use tower::ServiceExt as _;

use crate::helpers::{assert_problem, spawn_app, spawn_app_with, test_config};

#[tokio::test]
async fn a_request_id_is_generated_or_echoed() {
    let app = spawn_app().await;
    let generated = app.get("/healthz").await;
    let id = generated.headers()["x-request-id"].to_str().unwrap();
    assert_eq!(id.len(), 36, "a UUID: {id}");

    let echoed = app
        .client
        .get(app.url("/healthz"))
        .header("x-request-id", "trace-abc-123")
        .send()
        .await
        .unwrap();
    assert_eq!(echoed.headers()["x-request-id"], "trace-abc-123");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn an_overlong_or_unsafe_request_id_is_replaced_not_echoed() {
    let app = spawn_app().await;
    let longest = "a".repeat(128);
    let kept = [longest.as_str(), "1f0b-AZ_z.9:x"];
    let replaced = [
        "a".repeat(129),
        "id with spaces".to_owned(),
        "x\"y".to_owned(),
        "é".to_owned(),
    ]
    .map(|id| reqwest::header::HeaderValue::from_bytes(id.as_bytes()).unwrap());

    for id in kept {
        let answer = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", id);
        let answer = answer.send().await.unwrap();
        assert_eq!(answer.headers()["x-request-id"], id);
    }
    for id in replaced {
        let answer = app
            .client
            .get(app.url("/healthz"))
            .header("x-request-id", id.clone());
        let answer = answer.send().await.unwrap();
        let echoed = answer.headers()["x-request-id"].to_str().unwrap();
        assert_eq!(echoed.len(), 36, "a fresh UUID instead of {id:?}: {echoed}");
    }
    app.stop().await.unwrap();
}

#[tokio::test]
async fn made_up_methods_share_one_metric_label() {
    let app = spawn_app().await;
    for method in ["BREW", "WHEN"] {
        let method = reqwest::Method::from_bytes(method.as_bytes()).unwrap();
        let answer = app.client.request(method, app.url("/healthz")).send().await;
        assert_eq!(answer.unwrap().status(), 405);
    }

    let text = app.get("/metrics").await.text().await.unwrap();
    assert!(
        text.contains(
            r#"bridge_http_requests_total{method="other",route="/healthz",status="405"} 2"#
        ),
        "{text}"
    );
    assert!(!text.contains("BREW") && !text.contains("WHEN"), "{text}");
    app.stop().await.unwrap();
}

#[tokio::test]
async fn unknown_routes_and_methods_get_problem_json() {
    let app = spawn_app().await;
    assert_problem(app.get("/no/such/route").await, 404).await;
    let wrong_method = app.client.post(app.url("/healthz")).send().await.unwrap();
    assert_eq!(wrong_method.headers()["allow"], "GET,HEAD");
    assert_problem(wrong_method, 405).await;
    app.stop().await.unwrap();
}

/// The production stack around test routes, to reach behaviour no production route
/// shows on its own (a handler that reads a body, one that panics).
async fn stacked(routes: Router<tovuti_ghl_bridge::http::AppState>, limit: usize) -> Router {
    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    config.server.body_limit_bytes = limit;
    let state = startup::build_state(config, CancellationToken::new())
        .await
        .unwrap();
    middleware::apply(routes, &state).with_state(state)
}

#[tokio::test]
async fn an_oversize_body_is_refused_with_413_problem_json() {
    let echo = Router::new().route(
        "/echo",
        post(|body: axum::body::Bytes| async move { body.len().to_string() }),
    );
    let app = stacked(echo, 16).await;
    let small = app
        .clone()
        .oneshot(
            Request::post("/echo")
                .body(Body::from("x".repeat(16)))
                .unwrap(),
        )
        .await
        .unwrap();
    assert_eq!(small.status(), 200);

    // Declared too large: refused before the body is read.
    let declared = Request::post("/echo")
        .header("content-length", "17")
        .body(Body::from("x".repeat(17)))
        .unwrap();
    let response = app.clone().oneshot(declared).await.unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );

    // Streamed without a length: refused once the limit is crossed.
    let chunks =
        futures::stream::iter(["x".repeat(10), "x".repeat(10)].map(Ok::<_, std::io::Error>));
    let streamed = Request::post("/echo")
        .body(Body::from_stream(chunks))
        .unwrap();
    let response = app.oneshot(streamed).await.unwrap();
    assert_eq!(response.status(), 413);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}

#[tokio::test]
async fn a_panicking_handler_becomes_a_500_problem_without_details() {
    let boom = Router::new().route("/boom", get(panicking_handler));
    let app = stacked(boom, 1024).await;
    let response = app
        .oneshot(Request::get("/boom").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 500);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
    let body = axum::body::to_bytes(response.into_body(), 4096)
        .await
        .unwrap();
    let text = String::from_utf8_lossy(&body);
    assert!(!text.contains("token=abc"), "{text}");
}

#[tokio::test]
async fn the_body_limit_is_configurable() {
    let app = spawn_app_with(|c| c.server.body_limit_bytes = 8).await;
    let response = app
        .client
        .post(app.url("/healthz"))
        .body("0123456789")
        .send()
        .await
        .unwrap();
    assert_problem(response, 413).await;
    app.stop().await.unwrap();
}

async fn panicking_handler() -> &'static str {
    panic!("secret internals: token=abc")
}

#[tokio::test]
async fn a_request_that_outlives_the_timeout_gets_408_problem_json() {
    let never = Router::new().route("/never", get(std::future::pending::<&'static str>));
    let app = stacked(never, 1024).await;
    // Built on the real clock; from here time only moves when every task is waiting.
    tokio::time::pause();
    let response = app
        .oneshot(Request::get("/never").body(Body::empty()).unwrap())
        .await
        .unwrap();
    assert_eq!(response.status(), 408);
    assert_eq!(
        response.headers()["content-type"],
        "application/problem+json"
    );
}
