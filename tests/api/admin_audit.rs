//! The audit log's listing, and that no token or planted personal data leaves the admin
//! API unless a payload is asked for; on SQLite and PostgreSQL.

use crate::admin_support::{AdminApp, EMAIL, FULL, PHONE, READ, on_both_backends, seed};

on_both_backends!(
    the_audit_log_pages_and_filters,
    no_token_or_planted_personal_data_leaves_except_in_an_asked_payload,
);

async fn the_audit_log_pages_and_filters(app: &AdminApp) {
    let s = seed(app).await;
    for id in [s.dead_ghl, s.dead_tovuti, s.done] {
        let path = format!("/api/v1/events/{id}/replay");
        assert_eq!(
            app.post(&path, FULL, serde_json::json!(null)).await.status,
            200
        );
    }
    let first = app.get("/api/v1/audit?limit=2", READ).await;
    assert_eq!(first.json["items"].as_array().unwrap().len(), 2);
    assert_eq!(
        first.json["items"][0]["target"],
        s.done.to_string(),
        "newest first"
    );
    let next = first.json["next"].as_str().unwrap();
    let second = app
        .get(&format!("/api/v1/audit?limit=2&cursor={next}"), READ)
        .await;
    assert_eq!(second.json["items"].as_array().unwrap().len(), 1);
    assert!(second.json["next"].is_null());
    let c2 = app.get("/api/v1/audit?connection=c2", READ).await;
    assert_eq!(c2.json["items"].as_array().unwrap().len(), 1);
    let later = app
        .get("/api/v1/audit?since=2999-01-01T00:00:00Z", READ)
        .await;
    assert_eq!(later.json["items"].as_array().unwrap().len(), 0);
    let events_cursor = app.get("/api/v1/events?limit=1", READ).await;
    let foreign = events_cursor.json["next"].as_str().unwrap();
    app.get(&format!("/api/v1/audit?cursor={foreign}"), READ)
        .await
        .assert_problem(400);
}

async fn no_token_or_planted_personal_data_leaves_except_in_an_asked_payload(app: &AdminApp) {
    let s = seed(app).await;
    let mut answers = Vec::new();
    for path in [
        "/api/v1/events".to_owned(),
        format!("/api/v1/events/{}", s.dead_ghl),
        "/api/v1/dead-letters".to_owned(),
        "/api/v1/backlog".to_owned(),
        "/api/v1/audit".to_owned(),
        "/api/v1/events?status=nope".to_owned(),
    ] {
        answers.push(app.get(&path, FULL).await.text);
    }
    let path = format!("/api/v1/events/{}/replay", s.dead_ghl);
    answers.push(app.post(&path, FULL, serde_json::json!(null)).await.text);
    answers.push(app.get("/api/v1/audit", READ).await.text);
    for text in &answers {
        for planted in [FULL, READ, EMAIL, PHONE] {
            assert!(!text.contains(planted), "`{planted}` leaked: {text}");
        }
    }
    let asked = app
        .get(
            &format!("/api/v1/events/{}?include=payload", s.pending),
            FULL,
        )
        .await;
    assert!(asked.text.contains(EMAIL) && !asked.text.contains(FULL));
}
