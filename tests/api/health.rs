//! Probes and metrics.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::config::DatabaseUrl;
use tovuti_ghl_bridge::startup;
use tower::ServiceExt as _;

use crate::common::{ScratchDb, free_port};
use crate::helpers::{assert_problem, spawn_app, spawn_app_with, test_config};

#[tokio::test]
async fn healthz_readyz_and_metrics_answer_on_a_fresh_sqlite_store() {
    let app = spawn_app().await;
    let health = app.get("/healthz").await;
    assert_eq!(health.status(), 200);
    assert_eq!(
        health.json::<serde_json::Value>().await.unwrap()["status"],
        "ok"
    );

    let ready: serde_json::Value = app.get("/readyz").await.json().await.unwrap();
    assert_eq!(
        (ready["status"].as_str(), ready["store"].as_str()),
        (Some("ready"), Some("sqlite"))
    );

    let metrics = app.get("/metrics").await;
    assert_eq!(metrics.status(), 200);
    let text = metrics.text().await.unwrap();
    assert!(
        text.contains(
            r#"bridge_http_requests_total{method="GET",route="/healthz",status="200"} 1"#
        ),
        "{text}"
    );
    assert!(
        text.contains(r#"bridge_inbox_events{status="pending"} 0"#),
        "{text}"
    );
    assert!(text.contains("bridge_store_up 1"), "{text}");
    assert!(
        text.contains(r#"bridge_inbox_oldest_age_seconds{status="dead"} 0"#),
        "{text}"
    );
    app.stop().await.unwrap();
}

#[tokio::test]
async fn readyz_turns_503_as_soon_as_draining_starts() {
    let dir = tempfile::tempdir().unwrap();
    let state = startup::build_state(test_config(&dir), CancellationToken::new())
        .await
        .unwrap();
    startup::prepare_store(&state).await.unwrap();
    let router = tovuti_ghl_bridge::http::router(state.clone());
    let ready = router.clone().oneshot(get("/readyz")).await.unwrap();
    assert_eq!(ready.status(), 200);

    state.shutdown.cancel();
    let draining = router.oneshot(get("/readyz")).await.unwrap();
    assert_eq!(draining.status(), 503);
    let body = axum::body::to_bytes(draining.into_body(), 4096)
        .await
        .unwrap();
    assert!(String::from_utf8_lossy(&body).contains("shutting down"));
}

fn get(path: &str) -> axum::http::Request<axum::body::Body> {
    axum::http::Request::get(path)
        .body(axum::body::Body::empty())
        .unwrap()
}

#[tokio::test]
async fn readyz_reports_an_unreachable_postgres_without_crashing() {
    // Nothing listens on this port: the database is "down".
    let port = free_port();
    let app = spawn_app_with(|c| {
        c.store.url = DatabaseUrl::new(format!("postgres://bridge:pw@127.0.0.1:{port}/bridge"));
        c.store.acquire_timeout_secs = 1;
    })
    .await;
    let problem = assert_problem(app.get("/readyz").await, 503).await;
    assert!(
        problem["detail"]
            .as_str()
            .unwrap()
            .contains("store unreachable"),
        "{problem}"
    );
    assert_eq!(
        app.get("/healthz").await.status(),
        200,
        "liveness does not depend on the store"
    );
    assert!(!app.server.is_finished(), "the service keeps running");
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn readyz_answers_within_its_bound_while_the_database_hangs() {
    // A "database" that accepts connections and never answers.
    let black_hole = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let port = black_hole.local_addr().unwrap().port();
    let app = spawn_app_with(|c| {
        c.store.url = DatabaseUrl::new(format!("postgres://bridge:pw@127.0.0.1:{port}/bridge"));
        c.store.run_migrations = false;
        c.server.readiness_timeout_ms = 200;
        c.worker.enabled = false;
    })
    .await;

    let started = std::time::Instant::now();
    let answer = app.get("/readyz").await;
    let took = started.elapsed();

    let problem = assert_problem(answer, 503).await;
    assert!(
        problem["detail"].as_str().unwrap().contains("timed out"),
        "{problem}"
    );
    assert!(
        took < Duration::from_millis(1500),
        "answered after {took:?}"
    );
    drop(black_hole);
    tokio::time::timeout(Duration::from_secs(10), app.stop())
        .await
        .unwrap()
        .unwrap();
}

#[tokio::test]
async fn readiness_recovers_when_postgres_comes_back() {
    let Some(db) = ScratchDb::postgres().await else {
        return;
    };
    let real = url::Url::parse(db.url()).unwrap();
    let upstream = format!(
        "{}:{}",
        real.host_str().unwrap(),
        real.port().unwrap_or(5432)
    );
    let port = free_port();
    let mut through_proxy = real.clone();
    through_proxy.set_port(Some(port)).unwrap();

    let dir = tempfile::tempdir().unwrap();
    let mut config = test_config(&dir);
    config.store.url = DatabaseUrl::new(through_proxy.as_str());
    config.store.acquire_timeout_secs = 1;
    let state = startup::build_state(config, CancellationToken::new())
        .await
        .unwrap();
    let router = tovuti_ghl_bridge::http::router(state.clone());
    assert!(
        startup::prepare_store(&state).await.is_err(),
        "the database is down"
    );
    assert_eq!(
        router
            .clone()
            .oneshot(get("/readyz"))
            .await
            .unwrap()
            .status(),
        503
    );

    // The database comes back (a proxy to the real server starts on the same port).
    let proxy = tokio::net::TcpListener::bind(("127.0.0.1", port))
        .await
        .unwrap();
    tokio::spawn(async move {
        while let Ok((mut inbound, _)) = proxy.accept().await {
            let upstream = upstream.clone();
            tokio::spawn(async move {
                let mut outbound = tokio::net::TcpStream::connect(upstream).await.unwrap();
                let _ = tokio::io::copy_bidirectional(&mut inbound, &mut outbound).await;
            });
        }
    });
    startup::prepare_store(&state).await.unwrap();
    assert_eq!(router.oneshot(get("/readyz")).await.unwrap().status(), 200);
    state.store.close().await;
    db.remove().await;
}
