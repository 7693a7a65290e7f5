//! The admin API's door: off without a token, 401/403 by token, rotation, the
//! failed-authentication limit per address, its own listener, bounded bodies.

use axum::body::Body;
use tovuti_ghl_bridge::config::OptionalSecret;

use crate::admin_support::{AdminApp, FULL, FULL_ROTATED, READ, from_peer, request};
use crate::helpers::{assert_problem, spawn_app};

const ROUTES: [(&str, &str); 7] = [
    ("GET", "/api/v1/events"),
    ("GET", "/api/v1/events/0190b6a2-6d1c-7a3e-9f00-000000000001"),
    (
        "POST",
        "/api/v1/events/0190b6a2-6d1c-7a3e-9f00-000000000001/replay",
    ),
    ("POST", "/api/v1/events/replay"),
    ("GET", "/api/v1/dead-letters"),
    ("GET", "/api/v1/backlog"),
    ("GET", "/api/v1/audit"),
];

#[tokio::test]
async fn without_a_configured_token_every_admin_route_is_404() {
    let app = AdminApp::sqlite_with(|c| {
        c.security.admin_token = OptionalSecret::new("");
        c.security.admin_read_tokens = OptionalSecret::new(" , ");
    })
    .await;
    for (method, path) in ROUTES {
        let answer = app
            .send(request(method, path, Some(FULL), Body::empty()))
            .await;
        answer.assert_problem(404);
    }
    app.finish().await;
}

#[tokio::test]
async fn a_missing_or_wrong_token_is_401_with_a_bearer_challenge() {
    let app = AdminApp::sqlite().await;
    let wrong = format!("{FULL}x");
    for token in [None, Some(wrong.as_str()), Some("")] {
        let answer = app
            .send(request("GET", "/api/v1/events", token, Body::empty()))
            .await;
        answer.assert_problem(401);
        assert_eq!(answer.headers["www-authenticate"], "Bearer");
        assert!(!answer.text.contains(FULL), "{}", answer.text);
    }
    let basic = axum::http::Request::get("/api/v1/events")
        .header("authorization", format!("Basic {FULL}"))
        .body(Body::empty())
        .unwrap();
    app.send(basic).await.assert_problem(401);
    app.finish().await;
}

#[tokio::test]
async fn a_read_only_token_reads_and_is_refused_every_change_with_403() {
    let app = AdminApp::sqlite().await;
    assert_eq!(app.get("/api/v1/events", READ).await.status, 200);
    assert_eq!(app.get("/api/v1/audit", READ).await.status, 200);
    for (method, path) in ROUTES.iter().filter(|(m, _)| *m == "POST") {
        let answer = app
            .send(request(method, path, Some(READ), Body::from("{}")))
            .await;
        answer.assert_problem(403);
    }
    app.finish().await;
}

#[tokio::test]
async fn both_tokens_of_a_rotation_work_and_are_audited_apart() {
    let app = AdminApp::sqlite().await;
    for token in [FULL, FULL_ROTATED] {
        let answer = app
            .post("/api/v1/events/replay", token, serde_json::json!({}))
            .await;
        assert_eq!(answer.status, 200, "{}", answer.text);
    }
    let audit = app.get("/api/v1/audit", FULL).await;
    let ids: Vec<&str> = audit.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| e["token_id"].as_str().unwrap())
        .collect();
    assert_eq!(ids.len(), 2);
    assert_ne!(ids[0], ids[1]);
    assert!(ids.iter().all(|id| id.len() == 8));
    assert!(!audit.text.contains(FULL) && !audit.text.contains(FULL_ROTATED));
    app.finish().await;
}

#[tokio::test]
async fn an_address_with_too_many_failures_gets_429_and_another_still_gets_in() {
    let app = AdminApp::sqlite_with(|c| c.admin.auth_failures_per_minute = 5).await;
    let attacker = [203, 0, 113, 7];
    let get = |token: &str, peer| {
        from_peer(
            request("GET", "/api/v1/events", Some(token), Body::empty()),
            peer,
        )
    };
    for _ in 0..5 {
        app.send(get("guess", attacker)).await.assert_problem(401);
    }
    // Blocked now: even the right token is not looked at.
    let blocked = app.send(get(FULL, attacker)).await;
    blocked.assert_problem(429);
    let wait: u64 = blocked.headers["retry-after"]
        .to_str()
        .unwrap()
        .parse()
        .unwrap();
    assert!((1..=60).contains(&wait), "{wait}");

    let other = app.send(get(FULL, [198, 51, 100, 9])).await;
    assert_eq!(other.status, 200, "{}", other.text);
    app.finish().await;
}

#[tokio::test]
async fn admin_bodies_are_bounded() {
    let app = AdminApp::sqlite().await;
    let big = format!("{{\"type\": \"{}\"}}", "x".repeat(2 * 1024 * 1024));
    let answer = app
        .send(request(
            "POST",
            "/api/v1/events/replay",
            Some(FULL),
            Body::from(big),
        ))
        .await;
    answer.assert_problem(413);
    app.finish().await;
}

#[tokio::test]
async fn with_its_own_listener_the_admin_api_is_served_only_there() {
    let dir = tempfile::tempdir().unwrap();
    let url = format!("sqlite://{}/bridge.db", dir.path().display());
    let mut config = crate::admin_support::admin_config(&url);
    config.admin.listen = "127.0.0.1:0".into();
    let public = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let admin = tokio::net::TcpListener::bind("127.0.0.1:0").await.unwrap();
    let (public_at, admin_at) = (public.local_addr().unwrap(), admin.local_addr().unwrap());
    let shutdown = tokio_util::sync::CancellationToken::new();
    let server = tokio::spawn(tovuti_ghl_bridge::run_with_admin(
        config,
        public,
        Some(admin),
        shutdown.clone(),
    ));
    let client = reqwest::Client::new();
    let get = |at: std::net::SocketAddr, path: &str| {
        client
            .get(format!("http://{at}{path}"))
            .bearer_auth(FULL)
            .send()
    };
    assert_problem(get(public_at, "/api/v1/events").await.unwrap(), 404).await;
    assert_eq!(get(public_at, "/healthz").await.unwrap().status(), 200);
    let listed = get(admin_at, "/api/v1/events").await.unwrap();
    assert_eq!(listed.status(), 200);
    assert_eq!(get(admin_at, "/healthz").await.unwrap().status(), 404);
    shutdown.cancel();
    server.await.unwrap().unwrap();
}

#[tokio::test]
async fn the_default_service_has_the_admin_api_off() {
    let app = spawn_app().await;
    let answer = app
        .client
        .get(app.url("/api/v1/events"))
        .bearer_auth("anything")
        .send()
        .await
        .unwrap();
    assert_problem(answer, 404).await;
    app.stop().await.unwrap();
}
