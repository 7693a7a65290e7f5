//! What a scan asks the tenant for: a poll without a "changed since" parameter reads
//! everything, a backfill with `since` asks for what changed from then.

use tovuti_ghl_bridge::config::InitialScan;
use tovuti_ghl_bridge::poller::{Resource, ScanMode, Unobserved, scan};

use crate::support::{TestDb, context};
use crate::tenant::Tenant;

pub async fn a_backfill_since_a_date_asks_for_changes_from_it_and_a_plain_poll_does_not(
    db: &TestDb,
) {
    let tenant = Tenant::with_learners(150);
    let ctx = context(db.store.clone(), &tenant, "a", InitialScan::Baseline);
    scan(&ctx, Resource::Users, ScanMode::Poll, &mut Unobserved)
        .await
        .unwrap();
    assert_eq!(tenant.since_asked(), vec![None, None]);

    let since: jiff::Timestamp = "2026-01-31T00:00:00Z".parse().unwrap();
    let mode = ScanMode::Backfill {
        limit: None,
        dry_run: false,
        since: Some(since),
    };
    let summary = scan(&ctx, Resource::Users, mode, &mut Unobserved)
        .await
        .unwrap();
    assert_eq!(tenant.since_asked()[2..], [Some(since), Some(since)]);
    // This tenant ignores the filter, so every baselined learner is still queued once.
    assert_eq!(summary.queued, 150);
}
