//! How often a scan saves its place: after every page that changed something, after the
//! last page and on shutdown, and otherwise at most every few seconds, so an unchanged
//! tenant's scan is not one commit per page.

use std::time::Duration;

use tokio_util::sync::CancellationToken;
use tovuti_ghl_bridge::config::InitialScan;
use tovuti_ghl_bridge::poller::{
    Cursor, PageCounts, PollError, Resource, ScanMode, ScanObserver, Unobserved, scan,
};

use crate::support::{CONNECTION, TestDb, context};
use crate::tenant::{Fault, List, Tenant};

async fn stored(db: &TestDb) -> Cursor {
    let text = db.store.poll_cursor(CONNECTION, "users").await.unwrap();
    serde_json::from_str(&text.unwrap()).unwrap()
}

/// Cancels the scan's shutdown token once it has seen page `after`.
struct StopAfter(u32, CancellationToken);

impl ScanObserver for StopAfter {
    fn page(&mut self, counts: &PageCounts) {
        if counts.page >= self.0 {
            self.1.cancel();
        }
    }
}

pub async fn an_unchanged_rescan_saves_its_place_only_at_its_end_or_on_shutdown(db: &TestDb) {
    let tenant = Tenant::with_learners(250);
    let ctx = context(db.store.clone(), &tenant, "a", InitialScan::Sync);
    scan(&ctx, Resource::Users, ScanMode::Poll, &mut Unobserved)
        .await
        .unwrap();
    let completed = stored(db).await;
    assert_eq!(completed.scan_started_at, None);

    // Killed on its third page, an unchanged rescan has written nothing for pages 1 and 2:
    // the next scan re-reads them, and finds nothing new there.
    tenant.fail(List::Users, 3, Fault::Hang);
    let killed = ctx.clone();
    let task = tokio::spawn(async move {
        scan(&killed, Resource::Users, ScanMode::Poll, &mut Unobserved).await
    });
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while tenant.pages_asked(List::Users) != [1, 2, 3, 1, 2, 3] {
        assert!(tokio::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
    task.abort();
    let _ = task.await;
    assert_eq!(stored(db).await, completed);

    // Stopped by shutdown after page 2, a scan saves where it stands.
    let mut stopping = ctx.clone();
    stopping.shutdown = CancellationToken::new();
    let mut observer = StopAfter(2, stopping.shutdown.clone());
    let stopped = scan(&stopping, Resource::Users, ScanMode::Poll, &mut observer).await;
    assert!(matches!(stopped, Err(PollError::Stopped)), "{stopped:?}");
    let place = stored(db).await;
    assert_eq!(
        (place.next_page, place.scan_started_at.is_some()),
        (3, true)
    );
}
