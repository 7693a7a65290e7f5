//! The poller's schedule: each resource is scanned an interval after its last scan
//! started, by the stored cursor, so a restart keeps the interval. Intervals are shrunk
//! to fractions of a second and the test waits for conditions with a deadline.

use std::time::Duration;

use tovuti_ghl_bridge::config::InitialScan;
use tovuti_ghl_bridge::poller::{Clock, spawn};

use crate::support::{TestDb, context};
use crate::tenant::{List, Tenant};

/// Waits (up to ten seconds) until `check` holds.
async fn until(mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

fn gaps(starts: &[tokio::time::Instant]) -> Vec<Duration> {
    starts.windows(2).map(|w| w[1] - w[0]).collect()
}

pub async fn scans_keep_their_interval_across_a_restart(db: &TestDb) {
    let tenant = Tenant::with_learners(3);
    let mut ctx = context(db.store.clone(), &tenant, "a", InitialScan::Sync);
    ctx.clock = Clock::tokio();
    ctx.settings.progress_interval = Duration::from_millis(200);
    ctx.settings.users_interval = Duration::from_secs(3);
    ctx.settings.awards_interval = Duration::from_secs(3600);

    let running = spawn(ctx.clone());
    until(|| tenant.scan_starts(List::Progress).len() >= 3).await;
    ctx.shutdown.cancel();
    running.await.unwrap();
    let users_before = tenant.scan_starts(List::Users).len();
    assert!(
        gaps(&tenant.scan_starts(List::Progress))
            .iter()
            .all(|gap| *gap >= Duration::from_millis(195))
    );

    // A restart (same store, a fresh token) scans users when the cursor says, not at once.
    ctx.shutdown = tokio_util::sync::CancellationToken::new();
    let restarted = spawn(ctx.clone());
    until(|| tenant.scan_starts(List::Users).len() > users_before).await;
    ctx.shutdown.cancel();
    restarted.await.unwrap();
    // A few milliseconds of slack: a scan starts its clock just before its first request.
    let users = gaps(&tenant.scan_starts(List::Users));
    assert!(
        users.iter().all(|gap| *gap >= Duration::from_millis(2_995)),
        "{users:?}"
    );
    assert_eq!(
        tenant.scan_starts(List::Awards).len(),
        1,
        "awards are not due again"
    );
}
