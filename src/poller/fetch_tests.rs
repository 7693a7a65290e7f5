//! The throttle and the page retries on tokio's paused clock: time moves only when every
//! task waits, so what is measured is what the poller waited, not how fast the machine is.

use std::collections::VecDeque;
use std::sync::{Arc, Mutex};
use std::time::Duration;

use async_trait::async_trait;
use tokio::time::Instant;
use tokio_util::sync::CancellationToken;

use super::{Throttle, page, worth_retrying};
use crate::config::{Config, DatabaseUrl};
use crate::platforms::tovuti::TovutiError;
use crate::platforms::tovuti::client::{Award, CourseProgress, Page, PageRequest, TovutiLists};
use crate::platforms::tovuti::payloads::User;
use crate::poller::{Clock, PollContext, PollError, PollSettings};
use crate::store::PgStore;
use crate::telemetry::Metrics;

/// A tenant with empty lists that logs when each request came, answering the scripted
/// errors first.
#[derive(Default)]
struct Logged {
    requests: Mutex<Vec<Instant>>,
    errors: Mutex<VecDeque<TovutiError>>,
}

impl Logged {
    fn answer<T>(&self) -> Result<Page<T>, TovutiError> {
        self.requests.lock().unwrap().push(Instant::now());
        match self.errors.lock().unwrap().pop_front() {
            Some(error) => Err(error),
            None => Ok(Page {
                items: Vec::new(),
                unreadable: 0,
                last: false,
            }),
        }
    }

    fn times(&self) -> Vec<Instant> {
        self.requests.lock().unwrap().clone()
    }
}

#[async_trait]
impl TovutiLists for Logged {
    async fn users_page(&self, _: PageRequest) -> Result<Page<User>, TovutiError> {
        self.answer()
    }
    async fn progress_page(&self, _: PageRequest) -> Result<Page<CourseProgress>, TovutiError> {
        self.answer()
    }
    async fn awards_page(&self, _: PageRequest) -> Result<Page<Award>, TovutiError> {
        self.answer()
    }
}

fn rate_limited(after: Duration) -> TovutiError {
    TovutiError::Status {
        endpoint: "users.list",
        status: 429,
        detail: "Too Many Requests".into(),
        retry_after: Some(after),
        invalid: Vec::new(),
    }
}

fn context(lists: Arc<Logged>, throttle: Throttle) -> PollContext {
    let mut config = Config::defaults();
    // Never connected: a page read does not touch the store.
    config.store.url = DatabaseUrl::new("postgres://nobody@127.0.0.1:1/unused");
    let mut settings = PollSettings::from_config(&config.poller, false);
    settings.first_backoff = Duration::from_millis(10);
    PollContext {
        store: Arc::new(PgStore::open(&config.store, None).unwrap()),
        lists,
        connection: "default".into(),
        owner: "test".into(),
        settings,
        metrics: Arc::new(Metrics::new()),
        throttle,
        clock: Clock::tokio(),
        shutdown: CancellationToken::new(),
    }
}

fn request(page: u32) -> PageRequest {
    PageRequest {
        page,
        page_size: 100,
        changed_since: None,
    }
}

#[tokio::test(start_paused = true)]
async fn pages_at_r_per_second_are_spaced_1_over_r_apart() {
    let lists = Arc::new(Logged::default());
    let ctx = context(lists.clone(), Throttle::per_second(2.0));

    let pages = 6;
    for n in 1..=pages {
        page::<User>(&ctx, request(n)).await.unwrap();
    }

    let times = lists.times();
    assert_eq!(times.len(), 6);
    let total = times[5] - times[0];
    // (N - 1) / R: the first request goes at once, each later one half a second after.
    assert!(total >= Duration::from_millis(2_500), "{total:?}");
    assert!(total < Duration::from_millis(2_600), "{total:?}");
    for gap in times.windows(2).map(|w| w[1] - w[0]) {
        assert!(gap >= Duration::from_millis(499), "{gap:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_429_retry_after_holds_the_page_and_the_connections_other_lists() {
    let lists = Arc::new(Logged::default());
    lists
        .errors
        .lock()
        .unwrap()
        .push_back(rate_limited(Duration::from_secs(7)));
    let ctx = context(lists.clone(), Throttle::none());

    let users = tokio::spawn({
        let ctx = ctx.clone();
        async move { page::<User>(&ctx, request(1)).await.map(|_| ()) }
    });
    // The users page has met its 429; the progress scan of the same connection asks next.
    while lists.times().is_empty() {
        tokio::task::yield_now().await;
    }
    tokio::task::yield_now().await;
    page::<CourseProgress>(&ctx, request(1)).await.unwrap();
    users.await.unwrap().unwrap();

    let times = lists.times();
    assert_eq!(
        times.len(),
        3,
        "the 429, its retry and the other list's page"
    );
    for later in &times[1..] {
        assert!(*later - times[0] >= Duration::from_secs(7), "{times:?}");
    }
}

#[tokio::test(start_paused = true)]
async fn a_retry_after_longer_than_the_backoff_cap_is_still_honoured() {
    let lists = Arc::new(Logged::default());
    lists
        .errors
        .lock()
        .unwrap()
        .push_back(rate_limited(Duration::from_secs(90)));
    let ctx = context(lists.clone(), Throttle::per_second(2.0));

    page::<Award>(&ctx, request(1)).await.unwrap();

    let times = lists.times();
    assert_eq!(times.len(), 2);
    assert!(times[1] - times[0] >= Duration::from_secs(90), "{times:?}");
}

#[tokio::test(start_paused = true)]
async fn shutdown_ends_a_wait_for_retry_after() {
    let lists = Arc::new(Logged::default());
    let ctx = context(lists.clone(), Throttle::none());
    ctx.throttle.hold_for(Duration::from_secs(120));
    ctx.shutdown.cancel();

    let read = page::<User>(&ctx, request(1)).await;

    assert!(matches!(read, Err(PollError::Stopped)), "{read:?}");
    assert!(lists.times().is_empty());
}

#[test]
fn transient_failures_and_unreadable_pages_are_retried_and_refusals_are_not() {
    let status = |status| TovutiError::Status {
        endpoint: "users.list",
        status,
        detail: String::new(),
        retry_after: None,
        invalid: Vec::new(),
    };
    let decode = TovutiError::Decode {
        endpoint: "users.list",
        detail: "EOF while parsing".into(),
    };
    let timeout = TovutiError::Timeout {
        endpoint: "users.list",
    };
    for error in [
        status(503),
        rate_limited(Duration::from_secs(1)),
        decode,
        timeout,
    ] {
        assert!(worth_retrying(&error), "{error}");
    }
    for error in [
        status(401),
        status(404),
        status(422),
        TovutiError::NotConfigured,
    ] {
        assert!(!worth_retrying(&error), "{error}");
    }
}
