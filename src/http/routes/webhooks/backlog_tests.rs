//! The bound through the real router and a real SQLite store, with counts taken only when
//! a test says so: the check interval is far longer than any test.

use std::time::Duration;

use axum::body::Body;
use axum::http::{Request, StatusCode};
use futures::future::join_all;
use jiff::Timestamp;
use tokio_util::sync::CancellationToken;
use tower::ServiceExt as _;

use crate::config::{Config, DatabaseUrl};
use crate::http::{self, AppState, WebhookIntake};
use crate::services::Services;
use crate::store::{Claim, Completion, Millis};
use crate::sync::Clients;
use crate::telemetry::Metrics;

const BOUND: u64 = 200;

struct App {
    state: AppState,
    router: axum::Router,
    _dir: tempfile::TempDir,
}

async fn app() -> App {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults();
    config.store.url = DatabaseUrl::new(format!("sqlite://{}/bridge.db", dir.path().display()));
    config.webhooks.tovuti.unsigned = true;
    config.webhooks.max_backlog = BOUND;
    config.webhooks.backlog_check_ms = 3_600_000;
    config.webhooks.retry_after_secs = 17;
    let mut metrics = Metrics::new();
    let webhooks = WebhookIntake::from_config(&config, metrics.registry_mut()).unwrap();
    let services = Services::open(config, metrics, CancellationToken::new())
        .await
        .unwrap();
    services.store.migrate().await.unwrap();
    let clients = Clients::new(
        services.config.clone(),
        services.store.clone(),
        services.metrics.clone(),
        &services.instance_id,
    )
    .unwrap();
    let state = AppState::new(services, webhooks, std::sync::Arc::new(clients));
    let router = http::router(state.clone());
    App {
        state,
        router,
        _dir: dir,
    }
}

impl App {
    /// Delivers `n` new Tovuti events at once; the status and `Retry-After` of each answer.
    async fn deliver(&self, first: usize, n: usize) -> Vec<(StatusCode, Option<String>)> {
        let posts = (first..first + n).map(|i| {
            let id = format!("evt_{i}");
            let body =
                crate::sandbox::samples::tovuti("user.created", &id, Timestamp::now()).to_string();
            let request = Request::post("/webhooks/tovuti")
                .header("content-type", "application/json")
                .body(Body::from(body))
                .unwrap();
            self.router.clone().oneshot(request)
        });
        join_all(posts)
            .await
            .into_iter()
            .map(|answer| {
                let answer = answer.unwrap();
                let retry_after = answer
                    .headers()
                    .get("retry-after")
                    .map(|v| v.to_str().unwrap().to_owned());
                (answer.status(), retry_after)
            })
            .collect()
    }

    /// What the worker does: takes every waiting event and finishes it.
    async fn drain(&self) {
        let store = &self.state.store;
        loop {
            let claim = Claim {
                owner: "worker".to_owned(),
                now: Millis::now(),
                lease: Duration::from_secs(30),
                limit: 100,
            };
            let events = store.claim_due_events(&claim).await.unwrap();
            if events.is_empty() {
                return;
            }
            for event in events {
                store
                    .complete_event(event.id, "worker", Completion::Done)
                    .await
                    .unwrap();
            }
        }
    }
}

fn count(answers: &[(StatusCode, Option<String>)], status: StatusCode) -> usize {
    answers.iter().filter(|(s, _)| *s == status).count()
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn a_burst_between_two_counts_is_held_to_the_bound() {
    let app = app().await;

    let answers = app.deliver(0, 300).await;

    assert_eq!(count(&answers, StatusCode::OK), 200);
    assert_eq!(count(&answers, StatusCode::TOO_MANY_REQUESTS), 100);
    for (status, retry_after) in &answers {
        if *status == StatusCode::TOO_MANY_REQUESTS {
            assert_eq!(retry_after.as_deref(), Some("17"));
        }
    }
    let stored = app.state.store.count_events_by_status().await.unwrap();
    assert_eq!(stored.iter().map(|(_, n)| n).sum::<u64>(), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn admissions_resume_once_a_count_sees_the_worker_caught_up() {
    let app = app().await;
    app.deliver(0, 200).await;
    assert_eq!(count(&app.deliver(200, 1).await, StatusCode::OK), 0);

    app.drain().await;
    assert_eq!(
        count(&app.deliver(201, 1).await, StatusCode::OK),
        0,
        "the drain is not seen before a count"
    );
    let backlog = &app.state.webhooks.backlog;
    backlog
        .refresh(app.state.store.as_ref(), Millis::now())
        .await;

    let answers = app.deliver(300, 250).await;
    assert_eq!(count(&answers, StatusCode::OK), 200);
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn duplicates_and_refusals_give_their_place_back() {
    let app = app().await;
    app.deliver(0, 150).await;

    // In groups that fit in the room left, so that each group is admitted while stored.
    for group in 0..6 {
        let again = app.deliver(group * 25, 25).await;
        assert_eq!(count(&again, StatusCode::OK), 25, "duplicates are answered");
    }

    let more = app.deliver(150, 100).await;
    assert_eq!(count(&more, StatusCode::OK), 50);
}
