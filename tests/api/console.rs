//! The operator console over the real router: sign-in, its cookie, CSRF, read-only
//! sessions, sign-out, and the pages rendering what the store holds.

use axum::body::Body;
use axum::http::{Request, header};

use tovuti_ghl_bridge::config::OptionalSecret;
use tovuti_ghl_bridge::store::Cipher;

use crate::admin_support::{AdminApp, EMAIL, FULL, READ, from_peer, request, seed};
use crate::console_support::{csrf, form, page, sign_in};

#[tokio::test]
async fn a_good_token_opens_a_session_with_a_strict_cookie_and_a_bad_one_does_not() {
    let app = AdminApp::sqlite().await;
    let bad = app
        .send(form("/console/sign-in", None, "token=not-a-token"))
        .await;
    assert_eq!(bad.status, 401);
    assert!(bad.headers.get(header::SET_COOKIE).is_none());
    assert!(bad.text.contains("not an admin token"));

    let answer = app
        .send(form("/console/sign-in", None, &format!("token={FULL}")))
        .await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.headers[header::LOCATION], "/console");
    let cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.starts_with("bridge_console="), "{cookie}");
    for attribute in [
        "HttpOnly",
        "SameSite=Strict",
        "Path=/console",
        "Max-Age=28800",
    ] {
        assert!(cookie.contains(attribute), "{cookie}");
    }
    assert!(!cookie.contains("Secure"), "plain HTTP: {cookie}");
    let csp = answer.headers[header::CONTENT_SECURITY_POLICY]
        .to_str()
        .unwrap();
    assert!(csp.starts_with("default-src 'self'"), "{csp}");

    // Behind a TLS-terminating proxy the cookie is Secure.
    let mut request = form("/console/sign-in", None, &format!("token={FULL}"));
    request
        .headers_mut()
        .insert("x-forwarded-proto", "https".parse().unwrap());
    let answer = app.send(request).await;
    let cookie = answer.headers[header::SET_COOKIE].to_str().unwrap();
    assert!(cookie.ends_with("; Secure"), "{cookie}");

    // Without a session a page sends the browser to sign in.
    let answer = app.send(page("/console", "bridge_console=forged")).await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.headers[header::LOCATION], "/console/sign-in");
    app.finish().await;
}

#[tokio::test]
async fn pages_show_connections_events_and_a_dead_events_reason_but_no_payload() {
    let app = AdminApp::sqlite().await;
    let seeded = seed(&app).await;
    let cookie = sign_in(&app, FULL).await;

    let overview = app.send(page("/console", &cookie)).await;
    assert_eq!(overview.status, 200, "{}", overview.text);
    assert!(
        overview
            .text
            .contains("Connections, those needing attention first")
            || overview.text.contains("No connection yet")
    );

    let events = app.send(page("/console/events?status=dead", &cookie)).await;
    assert_eq!(events.status, 200, "{}", events.text);
    assert!(events.text.contains(&seeded.dead_ghl.to_string()));
    assert!(events.text.contains("ghl 422"), "{}", events.text);
    assert!(!events.text.contains(&seeded.done.to_string()));
    assert!(!events.text.contains(EMAIL), "a list never shows a payload");

    let detail = app
        .send(page(
            &format!("/console/events/{}", seeded.dead_ghl),
            &cookie,
        ))
        .await;
    assert_eq!(detail.status, 200);
    assert!(detail.text.contains("ContactUpdate"));
    assert!(detail.text.contains("Replay this event"));
    assert!(!detail.text.contains(EMAIL));

    let bad = app.send(page("/console/events?status=lost", &cookie)).await;
    assert_eq!(bad.status, 400);
    assert!(bad.text.contains("unknown status"));
    app.finish().await;
}

#[tokio::test]
async fn a_post_without_the_sessions_csrf_token_is_refused() {
    let app = AdminApp::sqlite().await;
    let seeded = seed(&app).await;
    let cookie = sign_in(&app, FULL).await;
    let path = format!("/console/events/{}/replay", seeded.dead_ghl);
    for body in ["", "csrf=wrong"] {
        let answer = app.send(form(&path, Some(&cookie), body)).await;
        assert_eq!(answer.status, 403, "{body}: {}", answer.text);
    }
    let status = app
        .state
        .store
        .event(seeded.dead_ghl)
        .await
        .unwrap()
        .unwrap()
        .status;
    assert_eq!(status.as_str(), "dead", "a refused post changes nothing");

    let detail = app
        .send(page(
            &format!("/console/events/{}", seeded.dead_ghl),
            &cookie,
        ))
        .await;
    let answer = app
        .send(form(
            &path,
            Some(&cookie),
            &format!("csrf={}", csrf(&detail)),
        ))
        .await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert!(answer.text.contains("Replayed"));
    let status = app
        .state
        .store
        .event(seeded.dead_ghl)
        .await
        .unwrap()
        .unwrap()
        .status;
    assert_eq!(status.as_str(), "pending");
    app.finish().await;
}

#[tokio::test]
async fn a_read_only_session_sees_everything_but_may_not_change_anything() {
    let app = AdminApp::sqlite().await;
    let seeded = seed(&app).await;
    let cookie = sign_in(&app, READ).await;
    let detail = app
        .send(page(
            &format!("/console/events/{}", seeded.dead_ghl),
            &cookie,
        ))
        .await;
    assert_eq!(detail.status, 200);
    assert!(
        !detail.text.contains("Replay this event"),
        "no mutating button"
    );
    assert!(detail.text.contains("(read-only)"));
    let path = format!("/console/events/{}/replay", seeded.dead_ghl);
    let answer = app
        .send(form(
            &path,
            Some(&cookie),
            &format!("csrf={}", csrf(&detail)),
        ))
        .await;
    assert_eq!(answer.status, 403);
    assert!(answer.text.contains("read-only"));
    let status = app
        .state
        .store
        .event(seeded.dead_ghl)
        .await
        .unwrap()
        .unwrap()
        .status;
    assert_eq!(status.as_str(), "dead");
    app.finish().await;
}

#[tokio::test]
async fn adding_a_connection_shows_its_webhook_url_and_is_audited() {
    // Credentials are stored only under an encryption key.
    let app = AdminApp::sqlite_with(|config| {
        config.security.encryption_key = OptionalSecret::new(Cipher::generate_key());
    })
    .await;
    let cookie = sign_in(&app, FULL).await;
    let new = app.send(page("/console/connections/new", &cookie)).await;
    assert_eq!(new.status, 200);
    let body = format!(
        "csrf={}&id=acme&name=Acme&ghl_location_id=loc-acme-1&ghl_token=pit-secret-value",
        csrf(&new)
    );
    let created = app
        .send(form("/console/connections", Some(&cookie), &body))
        .await;
    assert_eq!(created.status, 303, "{}", created.text);
    assert_eq!(
        created.headers[header::LOCATION],
        "/console/connections/acme"
    );
    let shown = app.send(page("/console/connections/acme", &cookie)).await;
    assert_eq!(shown.status, 200);
    // minijinja escapes `/` in values; the browser reads it back as `/`.
    let text = shown.text.replace("&#x2f;", "/");
    assert!(
        text.contains("value=\"http://localhost:8080/webhooks/tovuti/acme\""),
        "{text}"
    );
    assert!(
        !shown.text.contains("pit-secret-value"),
        "a token never comes back"
    );
    let audit = app.get("/api/v1/audit", FULL).await;
    assert_eq!(audit.json["items"][0]["action"], "connection.create");

    let invalid = format!("csrf={}&id=Bad%20Id&ghl_location_id=x", csrf(&new));
    let answer = app
        .send(form("/console/connections", Some(&cookie), &invalid))
        .await;
    assert_eq!(answer.status, 422, "{}", answer.text);
    app.finish().await;
}

#[tokio::test]
async fn signing_out_ends_the_session_on_the_server() {
    let app = AdminApp::sqlite().await;
    let cookie = sign_in(&app, FULL).await;
    let overview = app.send(page("/console", &cookie)).await;
    let answer = app
        .send(form(
            "/console/sign-out",
            Some(&cookie),
            &format!("csrf={}", csrf(&overview)),
        ))
        .await;
    assert_eq!(answer.status, 303);
    assert!(
        answer.headers[header::SET_COOKIE]
            .to_str()
            .unwrap()
            .contains("Max-Age=0")
    );
    // The old cookie, replayed, no longer opens anything.
    let answer = app.send(page("/console", &cookie)).await;
    assert_eq!(answer.status, 303);
    assert_eq!(answer.headers[header::LOCATION], "/console/sign-in");
    app.finish().await;
}

#[tokio::test]
async fn the_console_is_off_when_configured_off() {
    let app = AdminApp::sqlite_with(|c| c.console.enabled = false).await;
    let answer = app.send(page("/console/sign-in", "x=y")).await;
    assert_eq!(answer.status, 404);
    app.finish().await;
}

#[tokio::test]
async fn failed_sign_ins_share_the_admin_apis_limit_per_address() {
    let app = AdminApp::sqlite_with(|c| c.admin.auth_failures_per_minute = 3).await;
    let peer = [10, 9, 8, 7];
    // Two failures against the API, the third at the console's sign-in: blocked.
    for _ in 0..2 {
        let answer = app
            .send(from_peer(
                request("GET", "/api/v1/events", Some("wrong"), Body::empty()),
                peer,
            ))
            .await;
        assert_eq!(answer.status, 401);
    }
    let answer = app
        .send(from_peer(
            form("/console/sign-in", None, "token=wrong"),
            peer,
        ))
        .await;
    assert_eq!(answer.status, 401);
    let answer = app
        .send(from_peer(
            form("/console/sign-in", None, &format!("token={FULL}")),
            peer,
        ))
        .await;
    assert_eq!(
        answer.status, 429,
        "even a good token waits: {}",
        answer.text
    );
    assert!(answer.headers.contains_key(header::RETRY_AFTER));
    assert!(answer.headers.get(header::SET_COOKIE).is_none());
    // Another address is not held up.
    let answer = app
        .send(from_peer(
            form("/console/sign-in", None, &format!("token={FULL}")),
            [10, 9, 8, 6],
        ))
        .await;
    assert_eq!(answer.status, 303);
    app.finish().await;
}

#[tokio::test]
async fn replay_by_filter_counts_first_then_replays_on_postgres() {
    let Some(app) = AdminApp::postgres().await else {
        return;
    };
    let seeded = seed(&app).await;
    let cookie = sign_in(&app, FULL).await;
    let events = app.send(page("/console/events?status=dead", &cookie)).await;
    let token = csrf(&events);
    let dry = app
        .send(form(
            "/console/events/replay",
            Some(&cookie),
            &format!("csrf={token}&status=dead&connection=c1"),
        ))
        .await;
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert!(dry.text.contains("Replay 2 events?"), "{}", dry.text);
    let status = app
        .state
        .store
        .event(seeded.dead_ghl)
        .await
        .unwrap()
        .unwrap()
        .status;
    assert_eq!(status.as_str(), "dead", "a dry run changes nothing");

    // A confirmation that expected another count is shown the new count instead.
    let stale = app
        .send(form(
            "/console/events/replay",
            Some(&cookie),
            &format!("csrf={token}&status=dead&connection=c1&confirm=yes&expected=5"),
        ))
        .await;
    assert!(stale.text.contains("The matching set changed"));

    let done = app
        .send(form(
            "/console/events/replay",
            Some(&cookie),
            &format!("csrf={token}&status=dead&connection=c1&confirm=yes&expected=2"),
        ))
        .await;
    assert!(done.text.contains("Replayed 2 events"), "{}", done.text);
    for id in [seeded.dead_ghl, seeded.dead_tovuti] {
        let status = app.state.store.event(id).await.unwrap().unwrap().status;
        assert_eq!(status.as_str(), "pending");
    }
    let audit = app.get("/api/v1/audit", FULL).await;
    assert_eq!(audit.json["items"][0]["action"], "events.replay");
    app.finish().await;
}

#[tokio::test]
async fn with_an_admin_listener_the_console_is_served_there_only() {
    let app = AdminApp::sqlite_with(|c| c.admin.listen = "127.0.0.1:0".into()).await;
    let sign_in = || {
        Request::builder()
            .uri("/console/sign-in")
            .body(Body::empty())
            .unwrap()
    };
    let public = app.send(sign_in()).await;
    assert_eq!(public.status, 404);
    let admin = tovuti_ghl_bridge::http::admin_router(app.state.clone());
    let response = tower::ServiceExt::oneshot(admin, sign_in()).await.unwrap();
    assert_eq!(response.status(), 200);
    app.finish().await;
}
