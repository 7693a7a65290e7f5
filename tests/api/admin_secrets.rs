//! Tovuti webhook secrets over the admin API, on SQLite and PostgreSQL: a secret made over
//! HTTP verifies its connection's webhooks until revoked, a rotation keeps the old one
//! for the overlap only, and neither the secret nor a token reaches the audit log.

use axum::body::Body;
use axum::http::Request;
use tovuti_ghl_bridge::platforms::tovuti::WebhookSecret;

use crate::admin_connections::{acme, audit_actions};
use crate::admin_support::{AdminApp, FULL, READ};

crate::admin_support::on_both_backends!(
    with = crate::admin_connections::with_key;
    a_secret_made_over_the_api_verifies_its_connections_webhooks_until_revoked,
    rotation_keeps_the_old_secret_for_the_overlap_only,
);

/// Posts a signed `user.created` to the connection's own webhook path.
async fn deliver(app: &AdminApp, secret: &str, id: &str) -> u16 {
    let body = serde_json::json!({
        "id": id,
        "type": "user.created",
        "timestamp": jiff::Timestamp::now().to_string(),
        "data": { "id": 42, "email": "ada@example.com" },
    })
    .to_string();
    let now = jiff::Timestamp::now().as_second();
    let signature = WebhookSecret::parse(secret)
        .unwrap()
        .sign(id, now, body.as_bytes());
    let request = Request::builder()
        .method("POST")
        .uri("/webhooks/tovuti/acme")
        .header("content-type", "application/json")
        .header("webhook-id", id)
        .header("webhook-timestamp", now.to_string())
        .header("webhook-signature", signature)
        .body(Body::from(body))
        .unwrap();
    app.send(request).await.status
}

async fn a_secret_made_over_the_api_verifies_its_connections_webhooks_until_revoked(
    app: &AdminApp,
) {
    assert_eq!(
        app.post("/api/v1/connections", FULL, acme()).await.status,
        201
    );
    let made = app
        .post(
            "/api/v1/connections/acme/tovuti-secrets",
            FULL,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(made.status, 201, "{}", made.text);
    let secret = made.json["secret"].as_str().unwrap().to_owned();
    assert!(secret.starts_with("whsec_"));
    let secret_id = made.json["id"].as_str().unwrap().to_owned();

    let listed = app
        .get("/api/v1/connections/acme/tovuti-secrets", READ)
        .await;
    assert_eq!(listed.ids(), std::slice::from_ref(&secret_id));
    assert!(
        !listed.text.contains(&secret),
        "a listing shows fingerprints only"
    );
    assert_eq!(
        listed.json["items"][0]["fingerprint"],
        made.json["fingerprint"]
    );

    assert_eq!(deliver(app, &secret, "evt-1").await, 200);
    let events = app.get("/api/v1/events?connection=acme", READ).await;
    assert_eq!(
        events.json["items"].as_array().unwrap().len(),
        1,
        "{}",
        events.text
    );

    let revoked = app
        .delete(
            &format!("/api/v1/connections/acme/tovuti-secrets/{secret_id}"),
            FULL,
        )
        .await;
    assert_eq!(revoked.status, 204, "{}", revoked.text);
    assert_eq!(
        deliver(app, &secret, "evt-2").await,
        401,
        "a revoked secret verifies nothing"
    );
    app.delete(
        &format!("/api/v1/connections/acme/tovuti-secrets/{secret_id}"),
        FULL,
    )
    .await
    .assert_problem(404);

    let audit = app.get("/api/v1/audit?connection=acme", READ).await;
    assert!(
        !audit.text.contains(&secret),
        "the audit names the fingerprint, not the secret"
    );
    assert_eq!(
        audit_actions(app).await,
        [
            "connection.create",
            "tovuti_secret.create",
            "tovuti_secret.revoke"
        ]
    );
}

async fn rotation_keeps_the_old_secret_for_the_overlap_only(app: &AdminApp) {
    assert_eq!(
        app.post("/api/v1/connections", FULL, acme()).await.status,
        201
    );
    let path = "/api/v1/connections/acme/tovuti-secrets";
    let first = app.post(path, FULL, serde_json::json!({})).await;
    let old = first.json["secret"].as_str().unwrap().to_owned();
    // A rotation with an hour of overlap: both verify.
    let second = app
        .post(path, FULL, serde_json::json!({ "overlap_secs": 3600 }))
        .await;
    assert_eq!(second.status, 201, "{}", second.text);
    let new = second.json["secret"].as_str().unwrap().to_owned();
    assert_eq!(deliver(app, &old, "evt-old").await, 200);
    assert_eq!(deliver(app, &new, "evt-new").await, 200);
    let listed = app.get(path, READ).await;
    let items = listed.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 2);
    assert!(
        items[0]["expires_at"].is_string(),
        "the old secret expires: {}",
        listed.text
    );
    assert!(items[1]["expires_at"].is_null(), "{}", listed.text);

    // A rotation with no overlap ends every older secret at once.
    let third = app
        .post(path, FULL, serde_json::json!({ "overlap_secs": 0 }))
        .await;
    let newest = third.json["secret"].as_str().unwrap().to_owned();
    assert_eq!(deliver(app, &new, "evt-new-2").await, 401);
    assert_eq!(deliver(app, &old, "evt-old-2").await, 401);
    assert_eq!(deliver(app, &newest, "evt-newest").await, 200);
    app.post(
        path,
        FULL,
        serde_json::json!({ "overlap_secs": 99_999_999 }),
    )
    .await
    .assert_problem(422);
}
