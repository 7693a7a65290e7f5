//! Aggregation under tokio's paused clock: the count is exact and the lines are few.

use std::time::Duration;

use super::RateLimitedWarn;
use crate::telemetry::capture::Captured;

const INTERVAL: Duration = Duration::from_secs(60);

/// A warning kind of this test's own, so parallel tests never share a window.
fn kind(name: &'static str) -> &'static RateLimitedWarn {
    Box::leak(Box::new(RateLimitedWarn::new(name, INTERVAL)))
}

fn occur(warning: &'static RateLimitedWarn, times: u32) {
    for _ in 0..times {
        if warning.admit() {
            tracing::warn!(source = "ghl", "store down");
        }
    }
}

#[tokio::test(start_paused = true)]
async fn a_thousand_occurrences_in_one_interval_make_two_lines_with_the_right_count() {
    let (logs, _guard) = Captured::start();
    let warning = kind("store down");

    occur(warning, 1000);
    assert_eq!(logs.lines().len(), 1, "only the first is logged at once");
    // Just past the end of the interval, so the summary's timer has fired.
    tokio::time::sleep(INTERVAL + Duration::from_millis(10)).await;

    let lines = logs.lines();
    assert_eq!(lines.len(), 2, "{lines:?}");
    assert_eq!(lines[0]["message"], "store down");
    assert_eq!(lines[0]["source"], "ghl");
    assert_eq!(lines[1]["level"], "WARN");
    assert_eq!(lines[1]["message"], "repeated warning suppressed");
    assert_eq!(lines[1]["warning"], "store down");
    assert_eq!(lines[1]["suppressed"], 999);
}

#[tokio::test(start_paused = true)]
async fn after_the_interval_the_next_occurrence_is_logged_at_once() {
    let (logs, _guard) = Captured::start();
    let warning = kind("lookup failed");

    occur(warning, 3);
    tokio::time::sleep(INTERVAL + Duration::from_secs(1)).await;
    occur(warning, 1);

    let messages: Vec<_> = logs.lines().iter().map(|l| l["message"].clone()).collect();
    assert_eq!(
        messages,
        ["store down", "repeated warning suppressed", "store down"]
    );
}

#[tokio::test(start_paused = true)]
async fn a_single_occurrence_has_no_summary() {
    let (logs, _guard) = Captured::start();
    occur(kind("once"), 1);
    tokio::time::sleep(INTERVAL * 3).await;
    assert_eq!(logs.lines().len(), 1);
}
