//! Backfills as jobs of the service over the admin API, on both backends, against a fake
//! Tovuti tenant: a run goes to done with its counters recorded, a second start while one
//! runs is 409, a cancel stops it between pages, read-only tokens only read, each start
//! and cancel is audited, and a run whose process stopped is marked failed.

use tovuti_ghl_bridge::store::{
    BackfillFrom, BackfillOptions, BackfillState, Millis, NewBackfillRun,
};

use crate::admin_support::{AdminApp, FULL, READ};
use crate::backfill_support::{
    LEARNERS, audit_actions, hold_users_scan, release_users_scan, start,
};

crate::backfill_support::on_both_backends_with_a_tenant!(
    a_run_goes_to_done_and_a_second_start_meanwhile_is_refused,
    a_cancel_stops_the_run_between_pages,
    read_only_tokens_read_runs_but_cannot_start_or_cancel,
    a_run_whose_process_stopped_is_marked_failed,
);

async fn a_run_goes_to_done_and_a_second_start_meanwhile_is_refused(app: &AdminApp) {
    hold_users_scan(app).await;
    let started = start(app, FULL, serde_json::json!({ "from": "tovuti" })).await;
    assert_eq!(started.status, 202, "{}", started.text);
    let id = started.json["id"].as_str().unwrap().to_owned();
    assert_eq!(
        started.headers["location"],
        format!("/api/v1/backfills/{id}")
    );
    assert_eq!(started.json["state"], "running");
    assert_eq!(started.json["from"], "tovuti");
    assert_eq!(
        started.json["started_by"],
        tovuti_ghl_bridge::http::admin::token_id(FULL)
    );

    let again = start(
        app,
        FULL,
        serde_json::json!({ "from": "tovuti", "dry_run": true }),
    )
    .await;
    again.assert_problem(409);
    release_users_scan(app).await;
    app.state.backfills.wait(&id).await;
    let done = app.get(&format!("/api/v1/backfills/{id}"), FULL).await;
    assert_eq!(done.status, 200, "{}", done.text);
    assert_eq!(done.json["state"], "done", "{}", done.text);
    assert_eq!(done.json["counts"]["scanned"], LEARNERS, "{}", done.text);
    assert_eq!(done.json["counts"]["queued"], LEARNERS, "{}", done.text);
    assert!(
        done.json["counts"]["pages"].as_u64().unwrap() >= 3,
        "{}",
        done.text
    );
    assert_eq!(done.json["percent"], 100);
    assert!(done.json["finished_at"].is_string());
    let events = app.state.store.count_events_by_status().await.unwrap();
    let queued: u64 = events.iter().map(|(_, n)| n).sum();
    assert_eq!(queued, LEARNERS, "one user.created per learner");

    let actions = audit_actions(app).await;
    let full_id = tovuti_ghl_bridge::http::admin::token_id(FULL);
    assert!(
        actions.contains(&("backfill.start".into(), id.clone(), full_id)),
        "{actions:?}"
    );
    // A finished run can start again; it finds everything queued already.
    let rerun = start(app, FULL, serde_json::json!({ "from": "tovuti" })).await;
    assert_eq!(rerun.status, 202, "{}", rerun.text);
    let rerun_id = rerun.json["id"].as_str().unwrap().to_owned();
    app.state.backfills.wait(&rerun_id).await;
    let rerun = app
        .get(&format!("/api/v1/backfills/{rerun_id}"), FULL)
        .await;
    assert_eq!(rerun.json["counts"]["queued"], 0, "{}", rerun.text);
    assert_eq!(
        rerun.json["counts"]["already_queued"], LEARNERS,
        "{}",
        rerun.text
    );
    let listed = app
        .get("/api/v1/connections/default/backfills?limit=1", READ)
        .await;
    assert_eq!(listed.status, 200, "{}", listed.text);
    assert_eq!(listed.ids(), [rerun_id], "newest first");
    let next = listed.json["next"].as_str().unwrap();
    let older = app
        .get(
            &format!("/api/v1/connections/default/backfills?limit=1&cursor={next}"),
            READ,
        )
        .await;
    assert_eq!(older.ids(), [id], "{}", older.text);
}

async fn a_cancel_stops_the_run_between_pages(app: &AdminApp) {
    hold_users_scan(app).await;
    let started = start(
        app,
        FULL,
        serde_json::json!({ "from": "tovuti", "limit": 3 }),
    )
    .await;
    assert_eq!(started.status, 202, "{}", started.text);
    let id = started.json["id"].as_str().unwrap().to_owned();
    let cancelled = app
        .post(
            &format!("/api/v1/backfills/{id}/cancel"),
            FULL,
            serde_json::json!({}),
        )
        .await;
    assert_eq!(cancelled.status, 202, "{}", cancelled.text);
    assert_eq!(cancelled.json["cancel_requested"], true);
    app.state.backfills.wait(&id).await;
    let run = app.get(&format!("/api/v1/backfills/{id}"), FULL).await;
    assert_eq!(run.json["state"], "cancelled", "{}", run.text);
    assert_eq!(run.json["counts"]["queued"], 0, "{}", run.text);
    assert_eq!(run.json["options"]["limit"], 3);
    let again = app
        .post(
            &format!("/api/v1/backfills/{id}/cancel"),
            FULL,
            serde_json::json!({}),
        )
        .await;
    again.assert_problem(409);
    let actions = audit_actions(app).await;
    assert!(
        actions
            .iter()
            .any(|(action, target, _)| action == "backfill.cancel" && *target == id),
        "{actions:?}"
    );
    let unknown = app
        .post(
            "/api/v1/backfills/00000000-0000-7000-8000-000000000000/cancel",
            FULL,
            serde_json::json!({}),
        )
        .await;
    unknown.assert_problem(404);
    app.get("/api/v1/backfills/not-a-run", FULL)
        .await
        .assert_problem(404);
    release_users_scan(app).await;
}

async fn read_only_tokens_read_runs_but_cannot_start_or_cancel(app: &AdminApp) {
    start(app, READ, serde_json::json!({ "from": "tovuti" }))
        .await
        .assert_problem(403);
    hold_users_scan(app).await;
    let started = start(app, FULL, serde_json::json!({ "from": "tovuti" })).await;
    let id = started.json["id"].as_str().unwrap().to_owned();
    let read = app.get(&format!("/api/v1/backfills/{id}"), READ).await;
    assert_eq!(read.status, 200, "{}", read.text);
    app.post(
        &format!("/api/v1/backfills/{id}/cancel"),
        READ,
        serde_json::json!({}),
    )
    .await
    .assert_problem(403);
    assert_eq!(
        app.get(&format!("/api/v1/backfills/{id}"), READ).await.json["cancel_requested"],
        false
    );
    // Bad bodies and unknown connections, each named.
    let bad = start(app, FULL, serde_json::json!({ "from": "hubspot" })).await;
    bad.assert_problem(400);
    assert!(bad.text.contains("`from`"), "{}", bad.text);
    start(app, FULL, serde_json::json!({ "from": "ghl", "limit": 0 }))
        .await
        .assert_problem(400);
    start(
        app,
        FULL,
        serde_json::json!({ "from": "ghl", "since": "last week" }),
    )
    .await
    .assert_problem(400);
    app.post(
        "/api/v1/connections/nope/backfills",
        FULL,
        serde_json::json!({ "from": "ghl" }),
    )
    .await
    .assert_problem(404);
    app.state.backfills.cancel(&id).await.unwrap();
    app.state.backfills.wait(&id).await;
    release_users_scan(app).await;
}

async fn a_run_whose_process_stopped_is_marked_failed(app: &AdminApp) {
    let long_ago = Millis(Millis::now().0 - 10 * 60 * 1000);
    let crashed = NewBackfillRun {
        id: uuid::Uuid::now_v7().to_string(),
        connection_id: "default".into(),
        from: BackfillFrom::Tovuti,
        options: BackfillOptions::default(),
        started_by: "deadbeef".into(),
        owner: "a-process-that-died".into(),
        started_at: long_ago,
    };
    app.state.store.insert_backfill_run(&crashed).await.unwrap();
    let shown = app
        .get(&format!("/api/v1/backfills/{}", crashed.id), READ)
        .await;
    assert_eq!(shown.json["state"], "running", "{}", shown.text);

    // A start first marks the stale run failed, so it is not refused.
    let started = start(
        app,
        FULL,
        serde_json::json!({ "from": "tovuti", "dry_run": true }),
    )
    .await;
    assert_eq!(started.status, 202, "{}", started.text);
    let id = started.json["id"].as_str().unwrap().to_owned();
    let old = app
        .get(&format!("/api/v1/backfills/{}", crashed.id), READ)
        .await;
    assert_eq!(old.json["state"], "failed", "{}", old.text);
    assert!(
        old.json["error"].as_str().unwrap().contains("stopped"),
        "{}",
        old.text
    );
    app.state.backfills.wait(&id).await;
    let dry = app.state.store.backfill_run(&id).await.unwrap().unwrap();
    assert_eq!(dry.state, BackfillState::Done);
    assert_eq!(
        dry.progress.counts.queued, LEARNERS,
        "a dry run counts what it would queue"
    );
    assert!(
        app.state
            .store
            .count_events_by_status()
            .await
            .unwrap()
            .iter()
            .all(|(_, n)| *n == 0)
    );

    // A live run's heartbeat keeps it; a reclaim leaves it alone.
    assert_eq!(app.state.backfills.reclaim(Millis::now()).await.unwrap(), 0);
    // Its late writes change nothing once it was reclaimed.
    let late = app
        .state
        .store
        .record_backfill_progress(
            &crashed.id,
            &crashed.owner,
            &Default::default(),
            Millis::now(),
        )
        .await
        .unwrap();
    assert_eq!(late, None);
}
