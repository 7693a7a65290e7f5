//! The admin API's event surface over the real router, on SQLite and PostgreSQL:
//! filters, pagination, detail, payload reads, replays and the audit they leave.

use std::collections::BTreeSet;

use crate::admin_support::{AdminApp, EMAIL, FULL, PHONE, READ, on_both_backends, seed};

on_both_backends!(
    each_filter_narrows_the_listing,
    pages_of_two_walk_every_event_exactly_once,
    bad_filters_are_400_naming_the_parameter,
    the_detail_shows_attempts_actions_and_skips_but_no_payload_unless_asked,
    replaying_one_event_makes_it_pending_and_is_audited,
    replay_by_filter_counts_on_a_dry_run_then_replays,
    dead_letters_and_backlog_count_per_connection,
);

async fn ids(app: &AdminApp, query: &str) -> BTreeSet<String> {
    let answer = app.get(&format!("/api/v1/events{query}"), READ).await;
    assert_eq!(answer.status, 200, "{query}: {}", answer.text);
    answer.ids().into_iter().collect()
}

fn set(ids: &[tovuti_ghl_bridge::store::EventId]) -> BTreeSet<String> {
    ids.iter().map(ToString::to_string).collect()
}

async fn each_filter_narrows_the_listing(app: &AdminApp) {
    let s = seed(app).await;
    let all = set(&[s.dead_ghl, s.dead_tovuti, s.done, s.processing, s.pending]);
    assert_eq!(ids(app, "").await, all);
    assert_eq!(
        ids(app, "?status=dead").await,
        set(&[s.dead_ghl, s.dead_tovuti])
    );
    assert_eq!(
        ids(app, "?status=done&status=pending").await,
        ids(app, "?status=done,pending").await
    );
    assert_eq!(
        ids(app, "?status=done,pending").await,
        set(&[s.done, s.pending])
    );
    assert_eq!(
        ids(app, "?source=tovuti").await,
        set(&[s.dead_tovuti, s.processing])
    );
    assert_eq!(ids(app, "?type=ContactTagUpdate").await, set(&[s.pending]));
    assert_eq!(
        ids(app, "?connection=c2").await,
        set(&[s.done, s.processing])
    );
    assert_eq!(ids(app, "?entity=contact:3").await, set(&[s.done]));
    assert_eq!(ids(app, "?q=EMAIL%20IS").await, set(&[s.dead_ghl]));
    assert_eq!(
        ids(app, "?q=100%25").await,
        set(&[]),
        "% is matched literally"
    );
    assert_eq!(
        ids(app, "?connection=c1&source=ghl&status=dead").await,
        set(&[s.dead_ghl])
    );
    let listed = app.get("/api/v1/events?status=processing", READ).await;
    let processing = &listed.json["items"][0];
    assert_eq!(processing["status"], "processing");
    assert_eq!(processing["connection"], "c2");
    // The seed's events were received a minute ago, a millisecond apart.
    let event = app.state.store.event(s.done).await.unwrap().unwrap();
    let at = |ms: i64| {
        jiff::Timestamp::from_millisecond(ms)
            .unwrap()
            .to_string()
            .replace('+', "%2B")
    };
    let since = at(event.received_at.0);
    let until = at(event.received_at.0 + 2);
    assert_eq!(
        ids(app, &format!("?since={since}&until={until}")).await,
        set(&[s.done, s.processing])
    );
}

async fn pages_of_two_walk_every_event_exactly_once(app: &AdminApp) {
    let s = seed(app).await;
    let mut seen = Vec::new();
    let mut path = "/api/v1/events?limit=2".to_owned();
    let mut pages = 0;
    loop {
        let page = app.get(&path, READ).await;
        assert_eq!(page.status, 200, "{}", page.text);
        assert!(page.ids().len() <= 2);
        seen.extend(page.ids());
        pages += 1;
        match page.json["next"].as_str() {
            Some(next) => path = format!("/api/v1/events?limit=2&cursor={next}"),
            None => break,
        }
    }
    assert_eq!(pages, 3);
    let newest_first: Vec<String> = [s.pending, s.processing, s.done, s.dead_tovuti, s.dead_ghl]
        .iter()
        .map(ToString::to_string)
        .collect();
    assert_eq!(seen, newest_first);
    // A filter holds across pages.
    let first = app.get("/api/v1/events?status=dead&limit=1", READ).await;
    let next = first.json["next"].as_str().unwrap().to_owned();
    let second = app
        .get(
            &format!("/api/v1/events?status=dead&limit=1&cursor={next}"),
            READ,
        )
        .await;
    assert_eq!(second.ids(), [s.dead_ghl.to_string()]);
    assert!(second.json["next"].is_null());
}

async fn bad_filters_are_400_naming_the_parameter(app: &AdminApp) {
    for (query, name) in [
        ("status=lost", "status"),
        ("source=mail", "source"),
        ("since=today", "since"),
        ("until=2026-13-01", "until"),
        ("limit=501", "limit"),
        ("limit=abc", "limit"),
        ("cursor=nope", "cursor"),
        ("colour=red", "colour"),
    ] {
        let answer = app.get(&format!("/api/v1/events?{query}"), READ).await;
        answer.assert_problem(400);
        let detail = answer.json["detail"].as_str().unwrap();
        assert!(detail.contains(&format!("`{name}`")), "{query}: {detail}");
    }
    let audit_cursor = app.get("/api/v1/audit?limit=1", READ).await;
    assert!(audit_cursor.json["next"].is_null());
    app.get("/api/v1/events/not-a-uuid", READ)
        .await
        .assert_problem(400);
    app.get("/api/v1/events/0190b6a2-6d1c-7a3e-9f00-00000000abcd", READ)
        .await
        .assert_problem(404);
}

async fn the_detail_shows_attempts_actions_and_skips_but_no_payload_unless_asked(app: &AdminApp) {
    let s = seed(app).await;
    let detail = app
        .get(&format!("/api/v1/events/{}", s.dead_ghl), READ)
        .await;
    assert_eq!(detail.status, 200, "{}", detail.text);
    let d = &detail.json;
    assert_eq!(d["id"], s.dead_ghl.to_string());
    assert_eq!(d["status"], "dead");
    assert_eq!(d["attempt_log"][0]["duration_ms"], 120);
    assert_eq!(d["attempt_log"][0]["outcome"], "dead");
    assert!(
        d["attempt_log"][0]["error"]
            .as_str()
            .unwrap()
            .starts_with("ghl 422")
    );
    assert_eq!(d["actions"][0]["action"], "add_tags");
    assert_eq!(d["actions"][0]["state"], "started");
    assert_eq!(d["skipped"][0]["item"], "custom field shoe_size");
    assert!(d.get("payload").is_none());
    assert!(!detail.text.contains(EMAIL) && !detail.text.contains(PHONE));
    let audit = app.get("/api/v1/audit", READ).await;
    assert_eq!(
        audit.json["items"].as_array().unwrap().len(),
        0,
        "reads without a payload are not audited"
    );

    let with = app
        .get(
            &format!("/api/v1/events/{}?include=payload", s.dead_ghl),
            READ,
        )
        .await;
    assert_eq!(with.status, 200, "{}", with.text);
    assert_eq!(with.json["payload"]["body"]["email"], EMAIL);
    let audit = app.get("/api/v1/audit", READ).await;
    let entry = &audit.json["items"][0];
    assert_eq!(entry["action"], "event.payload.read");
    assert_eq!(entry["target"], s.dead_ghl.to_string());
    assert_eq!(entry["connection"], "c1");
    app.get(&format!("/api/v1/events/{}?include=body", s.dead_ghl), READ)
        .await
        .assert_problem(400);
}

async fn replaying_one_event_makes_it_pending_and_is_audited(app: &AdminApp) {
    let s = seed(app).await;
    let path = format!("/api/v1/events/{}/replay", s.dead_ghl);
    let answer = app.post(&path, FULL, serde_json::json!(null)).await;
    assert_eq!(answer.status, 200, "{}", answer.text);
    assert_eq!(answer.json["status"], "pending");
    let event = app.state.store.event(s.dead_ghl).await.unwrap().unwrap();
    assert_eq!(event.status.as_str(), "pending");
    assert_eq!((event.attempts, event.last_error), (0, None));

    let busy = format!("/api/v1/events/{}/replay", s.processing);
    app.post(&busy, FULL, serde_json::json!(null))
        .await
        .assert_problem(409);
    let unknown = "/api/v1/events/0190b6a2-6d1c-7a3e-9f00-00000000abcd/replay";
    app.post(unknown, FULL, serde_json::json!(null))
        .await
        .assert_problem(404);
    app.post("/api/v1/events/xyz/replay", FULL, serde_json::json!(null))
        .await
        .assert_problem(400);

    let audit = app.get("/api/v1/audit?action=event.replay", READ).await;
    let items = audit.json["items"].as_array().unwrap();
    assert_eq!(
        items.len(),
        1,
        "only the replay that changed something: {}",
        audit.text
    );
    assert_eq!(items[0]["target"], s.dead_ghl.to_string());
    assert_eq!(items[0]["connection"], "c1");
}

async fn replay_by_filter_counts_on_a_dry_run_then_replays(app: &AdminApp) {
    let s = seed(app).await;
    let dry = app
        .post(
            "/api/v1/events/replay",
            FULL,
            serde_json::json!({ "source": "ghl", "dry_run": true }),
        )
        .await;
    assert_eq!(dry.status, 200, "{}", dry.text);
    assert_eq!(
        (dry.json["matched"].as_u64(), dry.json["replayed"].as_u64()),
        (Some(1), Some(0))
    );
    assert_eq!(
        ids(app, "?status=dead").await,
        set(&[s.dead_ghl, s.dead_tovuti])
    );
    assert_eq!(
        app.get("/api/v1/audit", READ).await.json["items"]
            .as_array()
            .unwrap()
            .len(),
        0
    );

    let real = app
        .post("/api/v1/events/replay", FULL, serde_json::json!({}))
        .await;
    assert_eq!(
        (
            real.json["matched"].as_u64(),
            real.json["replayed"].as_u64()
        ),
        (Some(2), Some(2))
    );
    assert_eq!(ids(app, "?status=dead").await, set(&[]));
    assert_eq!(
        ids(app, "?status=pending").await,
        set(&[s.dead_ghl, s.dead_tovuti, s.pending])
    );
    let audit = app.get("/api/v1/audit", READ).await;
    let items = audit.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1);
    assert_eq!(items[0]["action"], "events.replay");
    assert_eq!(items[0]["detail"]["replayed"], 2);

    for (body, name) in [
        (serde_json::json!({ "status": ["lost"] }), "status"),
        (serde_json::json!({ "ids": ["x"] }), "ids"),
        (serde_json::json!({ "since": "soon" }), "since"),
        (
            serde_json::json!({ "ids": vec![s.dead_ghl.to_string(); 1001] }),
            "`ids`",
        ),
    ] {
        let answer = app.post("/api/v1/events/replay", FULL, body).await;
        answer.assert_problem(400);
        assert!(answer.json["detail"].as_str().unwrap().contains(name));
    }
    app.post(
        "/api/v1/events/replay",
        FULL,
        serde_json::json!({ "colour": 1 }),
    )
    .await
    .assert_problem(400);
}

async fn dead_letters_and_backlog_count_per_connection(app: &AdminApp) {
    seed(app).await;
    let dead = app.get("/api/v1/dead-letters", READ).await;
    assert_eq!(dead.status, 200, "{}", dead.text);
    let items = dead.json["items"].as_array().unwrap();
    assert_eq!(items.len(), 1, "{}", dead.text);
    assert_eq!(items[0]["connection"], "c1");
    assert_eq!(items[0]["dead"], 2);
    let reasons: BTreeSet<&str> = items[0]["reasons"]
        .as_array()
        .unwrap()
        .iter()
        .map(|r| r["reason"].as_str().unwrap())
        .collect();
    assert_eq!(reasons, BTreeSet::from(["ghl 422", "tovuti 500"]));

    let backlog = app.get("/api/v1/backlog", READ).await;
    assert_eq!(backlog.status, 200, "{}", backlog.text);
    let items = backlog.json["items"].as_array().unwrap();
    let c1 = items.iter().find(|i| i["connection"] == "c1").unwrap();
    assert_eq!(
        (
            c1["counts"]["dead"].as_u64(),
            c1["counts"]["pending"].as_u64()
        ),
        (Some(2), Some(1))
    );
    assert!(c1["oldest_pending_age_secs"].as_i64().unwrap() >= 59);
    let c2 = items.iter().find(|i| i["connection"] == "c2").unwrap();
    assert_eq!(c2["counts"]["processing"], 1);
    assert!(c2["oldest_pending_age_secs"].is_null());
}
