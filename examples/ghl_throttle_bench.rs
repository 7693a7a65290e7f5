//! How much of GHL's burst quota the client uses while a backlog exists, and how many
//! 429s it earns, against the fake GHL enforcing the real quota (100 per 10 s) on the
//! wall clock. Run through `bench/ghl_throttle.sh`; not a test.
//!
//! Usage: ghl_throttle_bench [CALLS]   (default 700: about 71 s of backlog)

use std::sync::Arc;
use std::time::Duration;

use tokio::time::Instant;
use tovuti_ghl_bridge::config::Config;
use tovuti_ghl_bridge::platforms::ghl::client::{Auth, ClientSettings, ContactInput, GhlClient};
use tovuti_ghl_bridge::sandbox::ghl::{ALL_SCOPES, FakeGhl, FakeSettings};
use tovuti_ghl_bridge::telemetry::Metrics;

/// The most instants inside any window of `width`.
fn busiest_window(times: &[Instant], width: Duration) -> usize {
    let mut sorted = times.to_vec();
    sorted.sort();
    let (mut best, mut start) = (0, 0);
    for end in 0..sorted.len() {
        while sorted[end] - sorted[start] >= width {
            start += 1;
        }
        best = best.max(end - start + 1);
    }
    best
}

#[tokio::main]
async fn main() -> anyhow::Result<()> {
    let calls: usize = std::env::args().nth(1).map_or(Ok(700), |n| n.parse())?;
    let fake = FakeGhl::start(FakeSettings::default()).await?;
    let token = fake.issue_token("bench-location", ALL_SCOPES);
    let mut config = Config::defaults().ghl;
    config.base_url = fake.base_url();
    let limits = (config.rate_limit_max, config.rate_limit_interval_ms);
    let client = GhlClient::new(
        ClientSettings::from_config(&config),
        Arc::new(Metrics::new()),
    )?;
    let ghl = client.location("bench-location", Auth::private_token(token));
    let id = ghl.create_contact(&ContactInput::default()).await?.id;
    let before = fake.requests().len();

    let started = Instant::now();
    let tasks: Vec<_> = (0..calls)
        .map(|_| {
            let (ghl, id) = (ghl.clone(), id.clone());
            tokio::spawn(async move { ghl.get_contact(&id).await })
        })
        .collect();
    let mut failed = 0;
    for task in tasks {
        failed += usize::from(task.await?.is_err());
    }
    let elapsed = started.elapsed();

    let log = &fake.requests()[before..];
    let refused = log.iter().filter(|r| r.status == 429).count();
    let times: Vec<Instant> = log.iter().map(|r| r.at).collect();
    let interval = Duration::from_millis(limits.1);
    let quota_in_elapsed = f64::from(limits.0) * elapsed.as_secs_f64() / interval.as_secs_f64();
    println!(
        "backlog: {calls} calls for one location, quota {} per {} ms, safety margin {}",
        limits.0, limits.1, config.rate_limit_safety_margin
    );
    println!("elapsed with a backlog: {:.1} s", elapsed.as_secs_f64());
    println!("requests sent: {}", log.len());
    println!(
        "share of the quota used: {:.1} %",
        100.0 * log.len() as f64 / quota_in_elapsed
    );
    println!(
        "busiest {} ms window at GHL: {} requests",
        limits.1,
        busiest_window(&times, interval)
    );
    println!("429s received: {refused}");
    println!("failed calls: {failed}");
    Ok(())
}
