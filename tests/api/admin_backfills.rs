//! Backfills as jobs of the service over the admin API and the console, on both backends,
//! against a fake Tovuti tenant: a run goes to done with its counters recorded, a second
//! start while one runs is 409, a cancel stops it between pages, read-only tokens and
//! sessions only read, forms need their CSRF token, each start and cancel is audited, and
//! a run whose process stopped is marked failed.

use std::time::Duration;

use tovuti_ghl_bridge::config::{Config, OptionalSecret};
use tovuti_ghl_bridge::sandbox::tovuti::FakeTovuti;
use tovuti_ghl_bridge::store::{
    BackfillFrom, BackfillOptions, BackfillState, Millis, NewBackfillRun,
};

use crate::admin_support::{AdminApp, FULL, READ};
use crate::console::{csrf, form, page, sign_in};

const TOKEN: &str = "7|backfill-jobs-tovuti-token";
const LEARNERS: u64 = 5;
/// The scan lease of the default connection's users, as the poller names it.
const USERS_LEASE: &str = "poll:default:users";

macro_rules! on_both_backends {
    ($($scenario:ident),* $(,)?) => {
        mod sqlite {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let tovuti = super::tenant().await;
                    let url = tovuti.base_url();
                    let app = crate::admin_support::AdminApp::sqlite_with(|c| super::configure(c, url)).await;
                    super::$scenario(&app).await;
                    app.finish().await;
                }
            )*
        }
        mod postgres {
            $(
                #[tokio::test(flavor = "multi_thread", worker_threads = 2)]
                async fn $scenario() {
                    let tovuti = super::tenant().await;
                    let url = tovuti.base_url();
                    let Some(app) = crate::admin_support::AdminApp::postgres_with(|c| super::configure(c, url)).await else { return };
                    super::$scenario(&app).await;
                    app.finish().await;
                }
            )*
        }
    };
}

on_both_backends!(
    a_run_goes_to_done_and_a_second_start_meanwhile_is_refused,
    a_cancel_stops_the_run_between_pages,
    read_only_tokens_read_runs_but_cannot_start_or_cancel,
    a_run_whose_process_stopped_is_marked_failed,
    the_console_starts_shows_and_cancels_runs_with_its_guards,
);

/// A tenant of five learners.
async fn tenant() -> FakeTovuti {
    let tovuti = FakeTovuti::start(TOKEN).await.unwrap();
    for id in 1..=LEARNERS {
        let user = serde_json::from_value(serde_json::json!({
            "id": id, "name": format!("Learner {id}"),
            "email": format!("learner{id}@example.com"), "status": "active",
        }))
        .unwrap();
        tovuti.insert_user(user);
    }
    tovuti
}

/// The default connection on the fake tenant, two items a page, no rate limit.
fn configure(config: &mut Config, tovuti_url: String) {
    config.ghl.location_id = "loc-backfill".into();
    config.tovuti.base_url = tovuti_url;
    config.tovuti.token = OptionalSecret::new(TOKEN);
    config.poller.page_size = 2;
    config.poller.requests_per_second = 0.0;
}

/// Holds the users scan lease as another process would (the poller mid-scan), so a
/// started run waits before its first page.
async fn hold_users_scan(app: &AdminApp) {
    let held = app
        .state
        .store
        .try_acquire_lease(
            USERS_LEASE,
            "another-replica",
            Millis::now(),
            Duration::from_secs(600),
        )
        .await
        .unwrap();
    assert!(held);
}

async fn release_users_scan(app: &AdminApp) {
    app.state
        .store
        .release_lease(USERS_LEASE, "another-replica")
        .await
        .unwrap();
}

async fn start(
    app: &AdminApp,
    token: &str,
    body: serde_json::Value,
) -> crate::admin_support::Answer {
    app.post("/api/v1/connections/default/backfills", token, body)
        .await
}

async fn audit_actions(app: &AdminApp) -> Vec<(String, String, String)> {
    let audit = app.get("/api/v1/audit?connection=default", FULL).await;
    assert_eq!(audit.status, 200, "{}", audit.text);
    audit.json["items"]
        .as_array()
        .unwrap()
        .iter()
        .map(|e| {
            let text = |name: &str| e[name].as_str().unwrap_or_default().to_owned();
            (text("action"), text("target"), text("token_id"))
        })
        .collect()
}

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

async fn the_console_starts_shows_and_cancels_runs_with_its_guards(app: &AdminApp) {
    let path = "/console/connections/default/backfills";
    let reader = sign_in(app, READ).await;
    let seen = app.send(page(path, &reader)).await;
    assert_eq!(seen.status, 200, "{}", seen.text);
    assert!(seen.text.contains("No backfill has run"), "{}", seen.text);
    assert!(
        !seen.text.contains("Start the backfill"),
        "no form when read-only"
    );
    let refused = app
        .send(form(
            path,
            Some(&reader),
            &format!("csrf={}&from=tovuti", csrf(&seen)),
        ))
        .await;
    assert_eq!(refused.status, 403);
    let cookie = sign_in(app, FULL).await;
    let shown = app.send(page(path, &cookie)).await;
    assert!(shown.text.contains("Start the backfill"), "{}", shown.text);
    let forged = app
        .send(form(path, Some(&cookie), "csrf=forged&from=tovuti"))
        .await;
    assert_eq!(forged.status, 403);
    let token = csrf(&shown);
    let bad = app
        .send(form(
            path,
            Some(&cookie),
            &format!("csrf={token}&from=tovuti&limit=many"),
        ))
        .await;
    assert_eq!(bad.status, 422, "{}", bad.text);
    let runs = app.get("/api/v1/connections/default/backfills", READ).await;
    assert!(
        runs.ids().is_empty(),
        "refusals start nothing: {}",
        runs.text
    );

    hold_users_scan(app).await;
    let started = app
        .send(form(
            path,
            Some(&cookie),
            &format!("csrf={token}&from=tovuti&limit=2&dry_run=yes"),
        ))
        .await;
    assert_eq!(started.status, 303, "{}", started.text);
    let runs = app.get("/api/v1/connections/default/backfills", READ).await;
    let id = runs.ids().pop().unwrap();
    assert_eq!(runs.json["items"][0]["options"]["dry_run"], true);
    let running = app.send(page(path, &cookie)).await;
    assert!(
        running.text.contains(r#"role="progressbar""#),
        "{}",
        running.text
    );
    assert!(
        running
            .text
            .contains(&format!("/console/backfills/{id}/progress"))
    );
    assert!(
        running
            .text
            .contains(&format!("/console/backfills/{id}/cancel"))
    );
    let twice = app
        .send(form(
            path,
            Some(&cookie),
            &format!("csrf={token}&from=tovuti"),
        ))
        .await;
    assert_eq!(twice.status, 409, "{}", twice.text);
    let progress = app
        .send(page(&format!("/console/backfills/{id}/progress"), &cookie))
        .await;
    assert_eq!(progress.json["state"], "running", "{}", progress.text);

    let cancel = format!("/console/backfills/{id}/cancel");
    let cancelled = app
        .send(form(&cancel, Some(&cookie), &format!("csrf={token}")))
        .await;
    assert_eq!(cancelled.status, 303, "{}", cancelled.text);
    app.state.backfills.wait(&id).await;
    let ended = app.send(page(path, &cookie)).await;
    assert!(
        ended.text.contains(r#"data-state="cancelled""#),
        "{}",
        ended.text
    );
    assert!(!ended.text.contains(r#"role="progressbar""#));
    let actions = audit_actions(app).await;
    let full_id = tovuti_ghl_bridge::http::admin::token_id(FULL);
    for action in ["backfill.start", "backfill.cancel"] {
        assert!(
            actions.contains(&(action.into(), id.clone(), full_id.clone())),
            "{action}: {actions:?}"
        );
    }
    release_users_scan(app).await;
}
