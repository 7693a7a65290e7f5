//! The worker against a real SQLite store and a scripted processor.

use std::collections::HashMap;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio_util::sync::CancellationToken;

use super::*;
use crate::config::{Config, DatabaseUrl};
use crate::services::Services;
use crate::store::{EventId, EventStatus, NewEvent, Source};
use crate::telemetry::Metrics;
use crate::telemetry::capture::Captured;

const T0: Millis = Millis(1_800_000_000_000);

/// Answers each event by its external id's script, and remembers the order it saw.
#[derive(Default)]
pub(super) struct Scripted {
    script: Mutex<HashMap<String, Vec<Result<Completion, ProcessError>>>>,
    seen: Mutex<Vec<String>>,
}

impl Scripted {
    pub(super) fn answer(&self, external_id: &str, answers: Vec<Result<Completion, ProcessError>>) {
        self.script
            .lock()
            .unwrap()
            .insert(external_id.to_owned(), answers);
    }
}

#[async_trait]
impl Processor for Scripted {
    async fn process(&self, event: &StoredEvent) -> Result<Completion, ProcessError> {
        self.seen.lock().unwrap().push(event.external_id.clone());
        let mut script = self.script.lock().unwrap();
        match script.get_mut(&event.external_id) {
            Some(answers) if !answers.is_empty() => answers.remove(0),
            _ => Ok(Completion::Done),
        }
    }
}

pub(super) struct Setup {
    pub(super) services: Services,
    pub(super) processor: Arc<Scripted>,
    _dir: tempfile::TempDir,
}

pub(super) async fn setup() -> Setup {
    let dir = tempfile::tempdir().unwrap();
    let mut config = Config::defaults();
    config.store.url = DatabaseUrl::new(format!("sqlite://{}/bridge.db", dir.path().display()));
    config.worker.concurrency = 4;
    let services = Services::open(config, Metrics::new(), CancellationToken::new())
        .await
        .unwrap();
    services.store.migrate().await.unwrap();
    Setup {
        services,
        processor: Arc::new(Scripted::default()),
        _dir: dir,
    }
}

impl Setup {
    pub(super) fn worker(&self) -> Worker {
        let schedule = RetrySchedule::new(&[5, 60]).with_jitter(|bound| bound);
        Worker::new(self.services.clone(), self.processor.clone()).with_schedule(schedule)
    }

    async fn record(&self, external_id: &str, entity: &str) -> EventId {
        self.record_at(external_id, entity, T0).await
    }

    async fn record_at(&self, external_id: &str, entity: &str, received_at: Millis) -> EventId {
        self.record_for(None, external_id, entity, received_at)
            .await
    }

    pub(super) async fn record_for(
        &self,
        connection: Option<&str>,
        external_id: &str,
        entity: &str,
        received_at: Millis,
    ) -> EventId {
        let event = NewEvent {
            source: Source::Tovuti,
            connection_id: connection.map(str::to_owned),
            external_id: external_id.to_owned(),
            event_type: "user.updated".into(),
            entity_key: Some(entity.to_owned()),
            headers: serde_json::json!({}),
            body: b"{}".as_slice().into(),
            status: EventStatus::Pending,
            note: None,
            received_at,
        };
        self.services.store.record_event(event).await.unwrap().id()
    }

    async fn status(&self, id: EventId) -> StoredEvent {
        self.services.store.event(id).await.unwrap().unwrap()
    }
}

#[tokio::test]
async fn due_events_are_processed_and_completed() {
    let s = setup().await;
    let a = s.record("a", "user:1").await;
    let b = s.record("b", "user:2").await;
    s.processor.answer("b", vec![Ok(Completion::Echo)]);
    assert_eq!(s.worker().run_once(T0).await.unwrap(), Outcome::Handled(2));
    assert_eq!(s.status(a).await.status, EventStatus::Done);
    assert_eq!(s.status(b).await.status, EventStatus::Echo);
    assert_eq!(s.worker().run_once(T0).await.unwrap(), Outcome::Idle);
}

#[tokio::test]
async fn transient_failures_follow_the_schedule_then_the_event_is_dead() {
    let s = setup().await;
    let id = s.record("flaky", "user:1").await;
    let failure = || Err(ProcessError::Retryable("GHL answered 502".into()));
    s.processor
        .answer("flaky", vec![failure(), failure(), failure()]);
    let worker = s.worker();

    worker.run_once(T0).await.unwrap();
    let first = s.status(id).await;
    assert_eq!(
        (first.status, first.next_attempt_at),
        (EventStatus::Retrying, Millis(T0.0 + 5_000))
    );
    assert_eq!(
        worker.run_once(Millis(T0.0 + 4_999)).await.unwrap(),
        Outcome::Idle,
        "not yet due"
    );

    worker.run_once(Millis(T0.0 + 5_000)).await.unwrap();
    assert_eq!(s.status(id).await.next_attempt_at, Millis(T0.0 + 65_000));
    worker.run_once(Millis(T0.0 + 65_000)).await.unwrap();
    let dead = s.status(id).await;
    assert_eq!((dead.status, dead.attempts), (EventStatus::Dead, 3));
    assert_eq!(
        dead.last_error.as_deref(),
        Some("gave up after 3 attempts: GHL answered 502")
    );
}

#[tokio::test]
async fn a_lost_answer_is_retried_no_sooner_than_the_settle_delay() {
    let s = setup().await;
    let id = s.record("lost", "user:1").await;
    let lost = || Err(ProcessError::Unsettled("outcome unknown: timeout".into()));
    s.processor.answer("lost", vec![lost(), lost()]);
    // A jitter that picks no delay at all: only the settle delay holds the retry back.
    let schedule = RetrySchedule::new(&[5, 60, 60]).with_jitter(|_| Duration::ZERO);
    let worker = Worker::new(s.services.clone(), s.processor.clone()).with_schedule(schedule);
    let settle = s.services.config.worker.settle_secs;
    assert!(
        settle > 5,
        "the default settle delay outlasts the first retry bound"
    );

    worker.run_once(T0).await.unwrap();
    let first = s.status(id).await;
    assert_eq!(
        (first.status, first.next_attempt_at),
        (EventStatus::Retrying, T0.plus(Duration::from_secs(settle)))
    );
    let later = first.next_attempt_at;
    worker.run_once(later).await.unwrap();
    assert_eq!(
        s.status(id).await.next_attempt_at,
        later.plus(Duration::from_secs(settle))
    );
}

#[tokio::test]
async fn a_permanent_failure_is_dead_at_once_with_its_reason() {
    let s = setup().await;
    let id = s.record("bad", "user:1").await;
    let reason = "422 {\"message\":[\"email must be an email\"]}";
    s.processor
        .answer("bad", vec![Err(ProcessError::Permanent(reason.into()))]);
    s.worker().run_once(T0).await.unwrap();
    let dead = s.status(id).await;
    assert_eq!(
        (dead.status, dead.attempts, dead.last_error.as_deref()),
        (EventStatus::Dead, 1, Some(reason))
    );
}

#[tokio::test]
async fn waiting_for_a_rate_limit_spends_no_attempt() {
    let s = setup().await;
    let id = s.record("throttled", "user:1").await;
    let until = Millis(T0.0 + 10_000);
    s.processor.answer(
        "throttled",
        vec![Err(ProcessError::Wait {
            until,
            reason: "429".into(),
        })],
    );
    s.worker().run_once(T0).await.unwrap();
    let waiting = s.status(id).await;
    assert_eq!(
        (waiting.status, waiting.attempts, waiting.next_attempt_at),
        (EventStatus::Pending, 0, until)
    );
    s.worker().run_once(until).await.unwrap();
    assert_eq!(s.status(id).await.status, EventStatus::Done);
}

#[tokio::test]
async fn one_entity_is_processed_in_order_while_others_go_in_parallel() {
    let s = setup().await;
    for (id, entity) in [
        ("u1-first", "user:1"),
        ("u1-second", "user:1"),
        ("u2", "user:2"),
        ("u1-third", "user:1"),
    ] {
        s.record(id, entity).await;
    }
    let worker = s.worker();
    assert_eq!(
        worker.run_once(T0).await.unwrap(),
        Outcome::Handled(2),
        "the head of each entity"
    );
    assert_eq!(worker.run_once(T0).await.unwrap(), Outcome::Handled(1));
    assert_eq!(worker.run_once(T0).await.unwrap(), Outcome::Handled(1));
    let seen = s.processor.seen.lock().unwrap().clone();
    let user_1: Vec<_> = seen.iter().filter(|id| id.starts_with("u1")).collect();
    assert_eq!(user_1, ["u1-first", "u1-second", "u1-third"]);
}

#[tokio::test]
async fn run_drains_the_inbox_and_stops_on_shutdown() {
    let s = setup().await;
    // Received now, so the real clock in `run` finds it due.
    let id = s.record_at("now", "user:1", Millis::now()).await;
    let task = tokio::spawn(s.worker().run());
    let done = async {
        while s.status(id).await.status != EventStatus::Done {
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), done)
        .await
        .expect("processed");
    s.services.shutdown.cancel();
    tokio::time::timeout(Duration::from_secs(10), task)
        .await
        .expect("stops")
        .unwrap();
}

/// Holds every event until released, like a slow downstream call.
struct Held(tokio::sync::Notify);

#[async_trait]
impl Processor for Held {
    async fn process(&self, _event: &StoredEvent) -> Result<Completion, ProcessError> {
        self.0.notified().await;
        Ok(Completion::Done)
    }
}

#[tokio::test]
async fn a_slow_attempt_keeps_renewing_its_lease() {
    let s = setup().await;
    let mut config = (*s.services.config).clone();
    config.worker.lease_secs = 1;
    let services = Services {
        config: Arc::new(config),
        ..s.services.clone()
    };
    let now = Millis::now();
    let id = s.record_at("slow", "user:1", now).await;
    let held = Arc::new(Held(tokio::sync::Notify::new()));
    let worker = Worker::new(services, held.clone());
    let step = tokio::spawn(async move { worker.run_once(now).await });
    let first_expiry = now.plus(Duration::from_secs(1));
    let renewed = async {
        loop {
            let event = s.status(id).await;
            if event.lease_expires_at.is_some_and(|at| at > first_expiry) {
                return;
            }
            tokio::task::yield_now().await;
        }
    };
    tokio::time::timeout(Duration::from_secs(10), renewed)
        .await
        .expect("the lease is renewed while the attempt runs");
    held.0.notify_one();
    step.await.unwrap().unwrap();
    assert_eq!(s.status(id).await.status, EventStatus::Done);
}

#[tokio::test]
async fn prune_removes_finished_events_past_the_retention_only() {
    let s = setup().await;
    let day = Duration::from_secs(86_400);
    let old = s.record_at("old", "user:1", T0).await;
    let recent = s.record_at("recent", "user:2", T0.plus(day * 29)).await;
    let dead = s.record_at("dead", "user:3", T0).await;
    s.processor
        .answer("dead", vec![Err(ProcessError::Permanent("422".into()))]);
    s.worker().run_once(T0.plus(day * 29)).await.unwrap();

    let pruned = s.worker().prune(T0.plus(day * 31)).await;
    assert_eq!(pruned, 1, "30 days retention by default");
    let store = &s.services.store;
    assert!(store.event(old).await.unwrap().is_none());
    assert!(store.event(recent).await.unwrap().is_some());
    assert_eq!(
        s.status(dead).await.status,
        EventStatus::Dead,
        "dead events stay"
    );
    assert_eq!(s.services.metrics.events_pruned.get(), 1);
}

fn dead_count(s: &Setup, reason: &str) -> String {
    s.services
        .metrics
        .encode()
        .lines()
        .filter(|l| l.starts_with("bridge_dead_events_total") && l.contains(reason))
        .collect()
}

#[tokio::test(flavor = "current_thread")]
async fn a_dead_event_logs_one_warning_naming_it_and_counts_its_reason() {
    let s = setup().await;
    let rejected = s.record("bad", "user:1").await;
    let tired = s.record("tired", "user:2").await;
    let failing = || Err(ProcessError::Retryable("GHL answered 503".into()));
    let reason = "422 {\"message\":[\"email must be an email\"]}";
    s.processor
        .answer("bad", vec![Err(ProcessError::Permanent(reason.into()))]);
    s.processor
        .answer("tired", vec![failing(), failing(), failing()]);
    let (logs, guard) = Captured::start();
    for at in [
        T0,
        T0.plus(Duration::from_secs(5)),
        T0.plus(Duration::from_secs(65)),
    ] {
        s.worker().run_once(at).await.unwrap();
    }
    drop(guard);
    let lines = logs.lines();
    assert_eq!(s.status(tired).await.status, EventStatus::Dead);
    let dead: Vec<_> = lines
        .iter()
        .filter(|l| {
            l["message"]
                .as_str()
                .unwrap_or("")
                .starts_with("event is dead")
        })
        .collect();
    assert_eq!(dead.len(), 2, "{lines:?}");
    for (line, id, class) in [
        (dead[0], rejected, "rejected"),
        (dead[1], tired, "retries_exhausted"),
    ] {
        assert_eq!(line["level"], "WARN");
        assert_eq!(line["event.id"], id.to_string());
        assert_eq!(line["event.source"], "tovuti");
        assert_eq!(line["event.type"], "user.updated");
        assert_eq!(line["connection.id"], "default");
        assert_eq!(line["reason.class"], class);
    }
    assert_eq!(dead[0]["reason"], reason);
    assert!(dead_count(&s, "reason=\"rejected\"").ends_with(" 1"));
    assert!(dead_count(&s, "reason=\"retries_exhausted\"").ends_with(" 1"));
}
