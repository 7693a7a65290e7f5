//! `poller.requests_per_second` over a whole scan (the store's writes between pages do
//! not let a page jump its turn), and one connection's failing tenant beside another's
//! healthy one. The paused-clock checks of the throttle and of `Retry-After` are unit
//! tests beside the page reader (src/poller/fetch_tests.rs).

use std::time::Duration;

use tovuti_ghl_bridge::config::InitialScan;
use tovuti_ghl_bridge::poller::{PollError, Resource, ScanMode, Throttle, Unobserved, scan};
use tovuti_ghl_bridge::store::NewConnection;

use crate::support::{TestDb, context};
use crate::tenant::{Fault, List, Tenant};

pub async fn a_scan_of_six_pages_at_20_per_second_takes_at_least_five_twentieths(db: &TestDb) {
    // 10 learners in pages of 2: five full pages and the short (empty) last one.
    let tenant = Tenant::with_learners(10);
    let mut ctx = context(db.store.clone(), &tenant, "a", InitialScan::Sync);
    ctx.settings.page_size = 2;
    ctx.throttle = Throttle::per_second(20.0);

    let summary = scan(&ctx, Resource::Users, ScanMode::Poll, &mut Unobserved)
        .await
        .unwrap();

    assert_eq!(summary.pages, 6);
    let times = tenant.request_times(List::Users);
    assert_eq!(times.len(), 6);
    // (N - 1) / R = 5 / 20 s; a millisecond of slack for the clock's rounding.
    let total = times[5] - times[0];
    assert!(total >= Duration::from_millis(249), "{total:?}");
    for gap in times.windows(2).map(|w| w[1] - w[0]) {
        assert!(gap >= Duration::from_millis(49), "{gap:?}");
    }
}

pub async fn a_failing_tenant_does_not_hold_up_another_connections_scan(db: &TestDb) {
    let other = NewConnection {
        id: "other".to_owned(),
        ghl_location_id: Some("loc-2".to_owned()),
        tovuti_base_url: Some("https://other.example".to_owned()),
    };
    db.store.upsert_connection(&other).await.unwrap();
    let failing = Tenant::with_learners(3);
    for _ in 0..10 {
        failing.fail(List::Users, 1, Fault::Status(500, None));
    }
    let mut broken = context(db.store.clone(), &failing, "a", InitialScan::Sync);
    broken.throttle = Throttle::per_second(2.0);
    // Long enough that the broken scan is still waiting to retry when the other ends.
    broken.settings.first_backoff = Duration::from_secs(30);
    let healthy = Tenant::with_learners(3);
    let mut working = context(db.store.clone(), &healthy, "a", InitialScan::Sync);
    working.connection = "other".to_owned();
    working.throttle = Throttle::per_second(2.0);

    let stuck = tokio::spawn({
        let broken = broken.clone();
        async move { scan(&broken, Resource::Users, ScanMode::Poll, &mut Unobserved).await }
    });
    // The broken scan has asked its first page (and is backing off) before the healthy
    // one starts; on a busy machine the spawned task may not have run yet.
    tokio::time::timeout(Duration::from_secs(10), async {
        while failing.pages_asked(List::Users).is_empty() {
            tokio::time::sleep(Duration::from_millis(5)).await;
        }
    })
    .await
    .expect("the failing scan asks its first page");
    let done = tokio::time::timeout(
        Duration::from_secs(10),
        scan(&working, Resource::Users, ScanMode::Poll, &mut Unobserved),
    )
    .await
    .expect("the healthy connection's scan ends while the other retries")
    .unwrap();

    assert_eq!(done.events, 3, "one user.created per learner");
    assert!(
        !stuck.is_finished(),
        "the failing scan is still backing off"
    );
    assert_eq!(failing.pages_asked(List::Users), vec![1]);
    broken.shutdown.cancel();
    let ended = stuck.await.unwrap();
    assert!(matches!(ended, Err(PollError::Stopped)), "{ended:?}");
    let polled = db.polled_events().await;
    assert_eq!(polled.len(), 3);
}
