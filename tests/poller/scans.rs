//! Scans against a fake tenant: what is queued for new, changed and unchanged entities,
//! and that failures, crashes and a second replica neither lose nor repeat a change.

use std::collections::HashSet;
use std::time::Duration;

use tovuti_ghl_bridge::config::InitialScan;
use tovuti_ghl_bridge::platforms::tovuti::TovutiWebhook;
use tovuti_ghl_bridge::poller::{
    Clock, PageCounts, PollError, Resource, ScanMode, ScanObserver, ScanSummary, Unobserved, scan,
};
use tovuti_ghl_bridge::store::Millis;

use crate::support::{TestDb, by_type, context};
use crate::tenant::{Fault, List, Tenant, award, user};

async fn scan_all(ctx: &tovuti_ghl_bridge::poller::PollContext) -> Vec<ScanSummary> {
    let mut summaries = Vec::new();
    for resource in Resource::ALL {
        summaries.push(
            scan(ctx, resource, ScanMode::Poll, &mut Unobserved)
                .await
                .unwrap(),
        );
    }
    summaries
}

fn pairs(list: &[(&str, usize)]) -> Vec<(String, usize)> {
    list.iter().map(|(t, n)| ((*t).to_owned(), *n)).collect()
}

pub async fn a_tenant_syncs_once_then_an_unchanged_rescan_writes_nothing_and_13_changes_make_13_events(
    db: &TestDb,
) {
    let tenant = Tenant::with_learners(1_000);
    for id in 1..=20 {
        tenant.complete(id, 7);
    }
    for id in 1..=5 {
        tenant.put_award(award(id, 900 + id));
    }
    let ctx = context(db.store.clone(), &tenant, "a", InitialScan::Sync);

    scan_all(&ctx).await;
    let events = db.polled_events().await;
    assert_eq!(
        by_type(&events),
        pairs(&[
            ("award.earned", 5),
            ("course.completed", 20),
            ("enrollment.created", 1_000),
            ("user.created", 1_000),
        ])
    );
    for (_, _, body) in &events {
        TovutiWebhook::parse(body.to_string().as_bytes()).expect("the webhook contract");
    }

    let marks = db.snapshot_marks().await;
    let again = scan_all(&ctx).await;
    assert!(
        again
            .iter()
            .all(|s| s.events == 0 && s.snapshots_saved == 0 && s.finished)
    );
    assert_eq!(again[0].scanned, 1_000);
    assert_eq!(
        db.snapshot_marks().await,
        marks,
        "an unchanged tenant writes no snapshot"
    );
    assert_eq!(db.polled_events().await.len(), events.len());

    for id in 101..=110 {
        tenant.rename(id, "Renamed");
    }
    for id in 201..=203 {
        tenant.complete(id, 7);
    }
    scan_all(&ctx).await;
    let after = db.polled_events().await;
    let new = &after[events.len()..];
    assert_eq!(
        by_type(new),
        pairs(&[("course.completed", 3), ("user.updated", 10)])
    );
    let completed: HashSet<u64> = new
        .iter()
        .filter(|e| e.0 == "course.completed")
        .map(|e| e.2["data"]["user"]["id"].as_u64().unwrap())
        .collect();
    assert_eq!(completed, HashSet::from([201, 202, 203]));
}

/// User ids of the `user.created` events, checking none is there twice.
fn created_users(events: &[(String, String, serde_json::Value)]) -> HashSet<u64> {
    let ids: Vec<u64> = events
        .iter()
        .filter(|e| e.0 == "user.created")
        .map(|e| e.2["data"]["user"]["id"].as_u64().unwrap())
        .collect();
    let unique: HashSet<u64> = ids.iter().copied().collect();
    assert_eq!(unique.len(), ids.len(), "a user was queued twice");
    unique
}

pub async fn a_page_failing_with_500_timeout_and_garbage_is_retried_and_loses_nothing(db: &TestDb) {
    let tenant = Tenant::with_learners(250);
    tenant.fail(List::Users, 2, Fault::Status(500, None));
    tenant.fail(List::Users, 2, Fault::Timeout);
    tenant.fail(List::Users, 2, Fault::Garbage);
    tenant.fail(
        List::Users,
        3,
        Fault::Status(429, Some(Duration::from_millis(5))),
    );
    let ctx = context(db.store.clone(), &tenant, "a", InitialScan::Sync);

    let summary = scan(&ctx, Resource::Users, ScanMode::Poll, &mut Unobserved)
        .await
        .unwrap();

    assert_eq!((summary.scanned, summary.events), (250, 250));
    assert_eq!(tenant.pages_asked(List::Users), vec![1, 2, 2, 2, 2, 3, 3]);
    assert_eq!(created_users(&db.polled_events().await).len(), 250);
}

pub async fn a_page_failing_past_its_retries_fails_the_scan_and_the_next_resumes_there(
    db: &TestDb,
) {
    let tenant = Tenant::with_learners(250);
    let ctx = context(db.store.clone(), &tenant, "a", InitialScan::Sync);
    for _ in 0..=ctx.settings.page_retries {
        tenant.fail(List::Users, 2, Fault::Status(503, None));
    }

    let failed = scan(&ctx, Resource::Users, ScanMode::Poll, &mut Unobserved).await;
    assert!(
        matches!(failed, Err(PollError::Tovuti { page: 2, .. })),
        "{failed:?}"
    );
    assert_eq!(created_users(&db.polled_events().await).len(), 100);

    let asked_before = tenant.pages_asked(List::Users).len();
    scan(&ctx, Resource::Users, ScanMode::Poll, &mut Unobserved)
        .await
        .unwrap();
    assert_eq!(tenant.pages_asked(List::Users)[asked_before..], [2, 3]);
    assert_eq!(created_users(&db.polled_events().await).len(), 250);
}

/// Waits (up to ten seconds) until `check` holds.
async fn until(mut check: impl FnMut() -> bool) {
    let deadline = tokio::time::Instant::now() + Duration::from_secs(10);
    while !check() {
        assert!(tokio::time::Instant::now() < deadline, "timed out");
        tokio::time::sleep(Duration::from_millis(5)).await;
    }
}

pub async fn a_scan_killed_between_pages_resumes_from_its_cursor_without_duplicates(db: &TestDb) {
    let tenant = Tenant::with_learners(250);
    tenant.fail(List::Users, 3, Fault::Hang);
    let ctx = context(db.store.clone(), &tenant, "a", InitialScan::Sync);
    let killed = ctx.clone();
    let task = tokio::spawn(async move {
        scan(&killed, Resource::Users, ScanMode::Poll, &mut Unobserved).await
    });
    until(|| tenant.pages_asked(List::Users).contains(&3)).await;
    task.abort();
    let _ = task.await;
    assert_eq!(created_users(&db.polled_events().await).len(), 200);

    // Another replica, once the killed one's lease has run out.
    let mut other = context(db.another_replica().await, &tenant, "b", InitialScan::Sync);
    other.clock = Clock::Tokio {
        base: Millis::now().plus(ctx.settings.lease * 2),
        start: tokio::time::Instant::now(),
    };
    scan(&other, Resource::Users, ScanMode::Poll, &mut Unobserved)
        .await
        .unwrap();
    assert_eq!(tenant.pages_asked(List::Users), vec![1, 2, 3, 3]);
    assert_eq!(created_users(&db.polled_events().await).len(), 250);
}

pub async fn two_replicas_never_scan_one_resource_at_once(db: &TestDb) {
    let tenant = Tenant::with_learners(150);
    tenant.fail(List::Users, 2, Fault::Hang);
    let first = context(db.store.clone(), &tenant, "a", InitialScan::Sync);
    let second = context(db.another_replica().await, &tenant, "b", InitialScan::Sync);
    let task = tokio::spawn(async move {
        scan(&first, Resource::Users, ScanMode::Poll, &mut Unobserved).await
    });
    until(|| tenant.pages_asked(List::Users).contains(&2)).await;

    let refused = scan(&second, Resource::Users, ScanMode::Poll, &mut Unobserved).await;

    assert!(matches!(refused, Err(PollError::Busy)), "{refused:?}");
    assert_eq!(tenant.pages_asked(List::Users), vec![1, 2]);
    // Another resource is not held by that lease.
    scan(&second, Resource::Awards, ScanMode::Poll, &mut Unobserved)
        .await
        .unwrap();
    task.abort();
}

pub async fn a_to_b_to_a_makes_three_distinct_events(db: &TestDb) {
    let tenant = Tenant::default();
    tenant.put_user(user(1, "A"));
    let ctx = context(db.store.clone(), &tenant, "a", InitialScan::Sync);
    for name in ["B", "A"] {
        scan(&ctx, Resource::Users, ScanMode::Poll, &mut Unobserved)
            .await
            .unwrap();
        tenant.rename(1, name);
    }
    scan(&ctx, Resource::Users, ScanMode::Poll, &mut Unobserved)
        .await
        .unwrap();

    let events = db.polled_events().await;
    let types: Vec<&str> = events.iter().map(|e| e.0.as_str()).collect();
    assert_eq!(types, ["user.created", "user.updated", "user.updated"]);
    let ids: HashSet<&str> = events.iter().map(|e| e.1.as_str()).collect();
    assert_eq!(ids.len(), 3);
    let names: Vec<&str> = events
        .iter()
        .map(|e| e.2["data"]["user"]["name"].as_str().unwrap())
        .collect();
    assert_eq!(names, ["A", "B", "A"]);
}

pub async fn a_baseline_queues_nothing_then_a_new_learner_is_created_and_enrolled(db: &TestDb) {
    let tenant = Tenant::with_learners(50);
    let ctx = context(db.store.clone(), &tenant, "a", InitialScan::Baseline);
    let first = scan_all(&ctx).await;
    assert_eq!(first[0].snapshots_saved + first[1].snapshots_saved, 100);
    assert!(db.polled_events().await.is_empty());

    tenant.put_user(user(51, "New"));
    tenant.put_progress(crate::tenant::enrollment(51, 7));
    scan_all(&ctx).await;

    let events = db.polled_events().await;
    let types: Vec<(&str, u64)> = events
        .iter()
        .map(|e| (e.0.as_str(), e.2["data"]["user"]["id"].as_u64().unwrap()))
        .collect();
    assert_eq!(types, [("user.created", 51), ("enrollment.created", 51)]);
}

#[derive(Default)]
struct Pages(Vec<PageCounts>);

impl ScanObserver for Pages {
    fn page(&mut self, counts: &PageCounts) {
        self.0.push(*counts);
    }
}

fn backfill(limit: Option<u64>, dry_run: bool) -> ScanMode {
    ScanMode::Backfill {
        limit,
        dry_run,
        since: None,
    }
}

pub async fn backfill_queues_each_baselined_learner_once_and_the_poller_then_sees_nothing(
    db: &TestDb,
) {
    let tenant = Tenant::with_learners(30);
    let ctx = context(db.store.clone(), &tenant, "a", InitialScan::Baseline);
    scan(&ctx, Resource::Users, ScanMode::Poll, &mut Unobserved)
        .await
        .unwrap();

    let dry = scan(&ctx, Resource::Users, backfill(None, true), &mut Unobserved)
        .await
        .unwrap();
    assert_eq!((dry.queued, dry.events), (30, 0));
    assert!(db.polled_events().await.is_empty());

    let mut pages = Pages::default();
    let limited = scan(&ctx, Resource::Users, backfill(Some(10), false), &mut pages)
        .await
        .unwrap();
    assert_eq!((limited.queued, limited.finished), (10, false));
    assert_eq!(pages.0.iter().map(|p| p.queued).sum::<u64>(), 10);

    let rest = scan(
        &ctx,
        Resource::Users,
        backfill(None, false),
        &mut Unobserved,
    )
    .await
    .unwrap();
    assert_eq!((rest.queued, rest.already_queued), (20, 10));
    let again = scan(
        &ctx,
        Resource::Users,
        backfill(None, false),
        &mut Unobserved,
    )
    .await
    .unwrap();
    assert_eq!(
        (again.queued, again.already_queued, again.events),
        (0, 30, 0)
    );
    let poll = scan(&ctx, Resource::Users, ScanMode::Poll, &mut Unobserved)
        .await
        .unwrap();
    assert_eq!(poll.events, 0);
    assert_eq!(created_users(&db.polled_events().await).len(), 30);
}
