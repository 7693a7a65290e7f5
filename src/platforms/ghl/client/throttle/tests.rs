use std::sync::Arc;
use std::time::Duration;

use reqwest::header::{HeaderMap, HeaderValue};
use tokio::time::Instant;

use super::*;

fn throttle(max: u32, margin: f64) -> Arc<Throttle> {
    let settings = ThrottleSettings {
        max_requests: max,
        interval: Duration::from_secs(10),
        safety_margin: margin,
        daily_warn_remaining: 10,
    };
    Arc::new(Throttle::new(settings, Arc::new(Metrics::new())))
}

/// The largest number of instants inside any window of `width`.
pub(crate) fn busiest_window(times: &[Instant], width: Duration) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort();
    let mut best = 0;
    let mut start = 0;
    for end in 0..sorted.len() {
        while sorted[end] - sorted[start] >= width {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[tokio::test(start_paused = true)]
async fn a_lane_spaces_requests_to_the_quota_less_the_margin() {
    let throttle = throttle(100, 0.02);
    let started = Instant::now();
    let mut times = Vec::new();
    for _ in 0..300 {
        throttle.acquire("loc", Priority::Background).await;
        times.push(Instant::now());
    }
    assert!(busiest_window(&times, Duration::from_secs(10)) <= 98);
    let elapsed = started.elapsed();
    // 299 gaps of 10 s / 98, each rounded up to tokio's 1 ms timer tick.
    assert!(elapsed <= Duration::from_millis(31_000), "{elapsed:?}");
    assert!(elapsed >= Duration::from_secs(30), "{elapsed:?}");
}

#[tokio::test(start_paused = true)]
async fn interactive_callers_overtake_queued_background_work() {
    let throttle = throttle(10, 0.0);
    throttle.acquire("loc", Priority::Background).await;
    let order = Arc::new(std::sync::Mutex::new(Vec::new()));
    let mut tasks = Vec::new();
    for n in 0..5 {
        let (throttle, order) = (throttle.clone(), order.clone());
        tasks.push(tokio::spawn(async move {
            throttle.acquire("loc", Priority::Background).await;
            order.lock().unwrap().push(format!("b{n}"));
        }));
        tokio::task::yield_now().await;
    }
    let (t, o) = (throttle.clone(), order.clone());
    tasks.push(tokio::spawn(async move {
        t.acquire("loc", Priority::Interactive).await;
        o.lock().unwrap().push("interactive".to_owned());
    }));
    for task in tasks {
        task.await.unwrap();
    }
    let order = order.lock().unwrap();
    let position = order.iter().position(|s| s == "interactive").unwrap();
    assert!(position <= 1, "interactive went at {position}: {order:?}");
}

#[tokio::test(start_paused = true)]
async fn a_429_pauses_only_its_location_for_retry_after() {
    let throttle = throttle(100, 0.0);
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", HeaderValue::from_static("7"));
    throttle.observe("loc", 429, &headers);
    assert_eq!(
        throttle.acquire("other", Priority::Background).await,
        Duration::ZERO
    );
    let waited = throttle.acquire("loc", Priority::Background).await;
    assert_eq!(waited, Duration::from_secs(7));
}

#[tokio::test(start_paused = true)]
async fn reported_limits_replace_the_configured_quota() {
    let throttle = throttle(100, 0.0);
    let mut headers = HeaderMap::new();
    headers.insert("x-ratelimit-max", HeaderValue::from_static("10"));
    headers.insert(
        "x-ratelimit-interval-milliseconds",
        HeaderValue::from_static("10000"),
    );
    headers.insert("x-ratelimit-remaining", HeaderValue::from_static("9"));
    throttle.observe("loc", 200, &headers);
    throttle.acquire("loc", Priority::Background).await;
    let waited = throttle.acquire("loc", Priority::Background).await;
    assert_eq!(
        waited,
        Duration::from_secs(1),
        "10 per 10 s is one a second"
    );
}

#[tokio::test(start_paused = true)]
async fn the_daily_budget_is_tracked_and_an_empty_one_pauses_the_lane() {
    let metrics = Arc::new(Metrics::new());
    let settings = ThrottleSettings {
        max_requests: 100,
        interval: Duration::from_secs(10),
        safety_margin: 0.0,
        daily_warn_remaining: 10,
    };
    let throttle = Throttle::new(settings, metrics.clone());
    let mut headers = HeaderMap::new();
    headers.insert("x-ratelimit-daily-remaining", HeaderValue::from_static("0"));
    throttle.observe("loc", 200, &headers);
    let labels = LocationLabels {
        location: "loc".into(),
    };
    assert_eq!(metrics.ghl_daily_remaining.get_or_create(&labels).get(), 0);
    let waited = throttle.acquire("loc", Priority::Background).await;
    assert_eq!(waited, DAILY_EXHAUSTED_PAUSE);
}

#[tokio::test]
async fn only_the_replica_holding_a_lane_may_send_for_its_location() {
    let dir = tempfile::tempdir().unwrap();
    let mut config = crate::config::Config::defaults().store;
    let url = format!("sqlite://{}/t.db", dir.path().display());
    config.url = crate::config::DatabaseUrl::new(url);
    let store = crate::store::connect(&config, None).await.unwrap();
    store.migrate().await.unwrap();
    let ttl = Duration::from_secs(30);
    let first = LaneOwnership::new(store.clone(), "replica-a", ttl);
    let second = LaneOwnership::new(store.clone(), "replica-b", ttl);

    assert!(first.try_hold("loc").await.unwrap());
    assert!(
        !second.try_hold("loc").await.unwrap(),
        "one owner at a time"
    );
    assert!(
        second.try_hold("other").await.unwrap(),
        "lanes are per location"
    );
    assert!(
        first.try_hold("loc").await.unwrap(),
        "the owner keeps its lane"
    );

    first.release_all().await;
    assert!(
        second.try_hold("loc").await.unwrap(),
        "a released lane is taken over"
    );
}

#[tokio::test(start_paused = true)]
async fn a_lanes_status_counts_the_window_and_shows_a_429s_pause() {
    let throttle = throttle(100, 0.0);
    let idle = throttle.status("loc");
    assert_eq!(idle.sent_in_window, 0);
    assert_eq!(idle.holder, LaneHolder::OnlyReplica);
    assert!(lock(&throttle.lanes).is_empty(), "reading made no lane");
    for _ in 0..3 {
        throttle.acquire("loc", Priority::Background).await;
    }
    let mut headers = HeaderMap::new();
    headers.insert("retry-after", HeaderValue::from_static("30"));
    headers.insert(
        "x-ratelimit-daily-remaining",
        HeaderValue::from_static("42"),
    );
    throttle.observe("loc", 429, &headers);
    let status = throttle.status("loc");
    assert_eq!(status.sent_in_window, 3);
    assert_eq!(status.paused_for, Some(Duration::from_secs(30)));
    assert_eq!(status.reported.unwrap().daily_remaining, Some(42));
    tokio::time::advance(Duration::from_secs(31)).await;
    let later = throttle.status("loc");
    assert_eq!((later.sent_in_window, later.paused_for), (0, None));
}
