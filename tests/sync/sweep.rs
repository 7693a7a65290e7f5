//! The GHL reconciliation sweep against the fake GHL: contacts changed "behind the
//! service's back" (no webhook) are found, repaired through the inbox and worker, and
//! nothing is synthesized for a state the service already saw or wrote.

use std::sync::Arc;
use std::time::Duration;

use serde_json::{Value, json};
use tovuti_ghl_bridge::config::DEFAULT_CONNECTION;
use tovuti_ghl_bridge::reconcile::{
    BackfillOptions, BackfillPage, SweepOutcome, SweepReport, Sweeper,
};
use tovuti_ghl_bridge::sandbox::ghl::{Fault, Target};
use tovuti_ghl_bridge::startup;
use tovuti_ghl_bridge::store::{Connection, EventStatus, Millis, ReplayFilter, Source};

use crate::support::{Backend, Env, LOCATION, linked_ada};

/// The sweep at full quota share, so paging tests take no real time.
pub async fn start(backend: Backend) -> Option<Env> {
    Env::start_with(backend, |c| {
        c.reconcile.quota_share = 1.0;
        c.reconcile.page_size = 10;
    })
    .await
}

pub fn sweeper(env: &Env, owner: &str) -> Sweeper {
    let engine = startup::sync_engine(&env.state).unwrap();
    Sweeper::new(&env.state, Arc::new(engine)).with_owner(owner)
}

pub async fn connection(env: &Env) -> Connection {
    env.state
        .store
        .connection(DEFAULT_CONNECTION)
        .await
        .unwrap()
        .unwrap()
}

pub async fn sweep(env: &Env, sweeper: &Sweeper) -> SweepReport {
    match sweeper.sweep(&connection(env).await).await.unwrap() {
        SweepOutcome::Done(report) => report,
        SweepOutcome::Busy => panic!("no other sweeper runs"),
    }
}

fn company(env: &Env) -> Value {
    let user = env.tovuti.user(4211).unwrap();
    user.custom_fields
        .iter()
        .find(|f| f.field_id.0 == 22)
        .map_or(Value::Null, |f| f.value.clone())
}

/// How many events the sweep (or a backfill) recorded, whatever became of them.
pub async fn sweep_events(env: &Env) -> u64 {
    let filter = ReplayFilter {
        source: Some(Source::Sweep),
        statuses: EventStatus::ALL.to_vec(),
        ..ReplayFilter::default()
    };
    // A dry-run replay only counts what the filter matches.
    let store = &env.state.store;
    store
        .replay_events(&filter, Millis::now(), true)
        .await
        .unwrap()
}

pub async fn a_contact_changed_while_its_webhook_was_dropped_is_repaired_in_one_sweep(
    backend: Backend,
) {
    let Some(env) = start(backend).await else {
        return;
    };
    let contact = linked_ada(&env).await;
    let sweeper = sweeper(&env, "replica-a");
    // GHL's webhook for this edit never arrives.
    env.ghl
        .edit_contact(&contact, &json!({"companyName": "Difference Engines Ltd"}))
        .unwrap();

    let report = sweep(&env, &sweeper).await;
    assert_eq!(report.repaired, 1, "{report:?}");
    assert_eq!(env.drain().await, 1);
    assert_eq!(company(&env), json!("Difference Engines Ltd"));

    // Processing the repair remembered the state: the next sweep has nothing to do.
    let again = sweep(&env, &sweeper).await;
    assert!(
        again.scanned >= 1,
        "the overlap covers the change: {again:?}"
    );
    assert_eq!((again.repaired, again.already_queued), (0, 0), "{again:?}");
    assert_eq!(sweep_events(&env).await, 1);
    env.finish().await;
}

pub async fn a_sweep_over_unchanged_contacts_synthesizes_nothing(backend: Backend) {
    let Some(env) = start(backend).await else {
        return;
    };
    // The service itself wrote this contact: the written state is the known one.
    linked_ada(&env).await;
    let report = sweep(&env, &sweeper(&env, "replica-a")).await;
    assert_eq!(report.scanned, 1, "{report:?}");
    assert_eq!(
        (report.repaired, report.already_queued),
        (0, 0),
        "{report:?}"
    );
    assert_eq!(sweep_events(&env).await, 0);
    env.finish().await;
}

pub async fn a_sweep_after_the_real_webhook_was_processed_synthesizes_nothing(backend: Backend) {
    let Some(env) = start(backend).await else {
        return;
    };
    let contact = linked_ada(&env).await;
    let edited = env
        .ghl
        .edit_contact(&contact, &json!({"companyName": "Difference Engines Ltd"}))
        .unwrap();
    // This time GHL's webhook arrives, with the contact as GHL holds it.
    let mut webhook = edited.clone();
    webhook["type"] = json!("ContactUpdate");
    webhook["locationId"] = json!(LOCATION);
    webhook["webhookId"] = json!("wh-real-edit");
    assert_eq!(env.send_ghl(&webhook).await.status, 200);
    env.drain().await;
    assert_eq!(company(&env), json!("Difference Engines Ltd"));

    let report = sweep(&env, &sweeper(&env, "replica-a")).await;
    assert_eq!(
        (report.repaired, report.already_queued),
        (0, 0),
        "{report:?}"
    );
    env.finish().await;
}

pub async fn the_same_change_found_by_two_sweeps_is_recorded_once(backend: Backend) {
    let Some(env) = start(backend).await else {
        return;
    };
    let contact = linked_ada(&env).await;
    env.ghl
        .edit_contact(&contact, &json!({"companyName": "Difference Engines Ltd"}))
        .unwrap();
    let sweeper = sweeper(&env, "replica-a");
    assert_eq!(sweep(&env, &sweeper).await.repaired, 1);
    // The worker has not run yet; the overlap finds the same change again.
    let again = sweep(&env, &sweeper).await;
    assert_eq!((again.repaired, again.already_queued), (0, 1), "{again:?}");
    assert_eq!(env.drain().await, 1);
    assert_eq!(sweep_events(&env).await, 1);
    env.finish().await;
}

pub async fn a_sweep_pages_through_every_changed_contact(backend: Backend) {
    let Some(env) = start(backend).await else {
        return;
    };
    for n in 0..25 {
        let fields = json!({"email": format!("p{n}@example.com"), "firstName": format!("P{n}")});
        env.ghl.add_contact(LOCATION, &fields);
    }
    let sweeper = sweeper(&env, "replica-a");
    let report = sweep(&env, &sweeper).await;
    assert_eq!(report.pages, 3, "page size 10: {report:?}");
    assert_eq!((report.scanned, report.repaired), (25, 25), "{report:?}");
    let searches: Vec<Value> = env
        .ghl
        .requests()
        .into_iter()
        .filter(|r| r.path.ends_with("/contacts/search"))
        .filter_map(|r| r.body)
        .collect();
    assert_eq!(searches.len(), 3);
    assert_eq!(searches[0]["filters"][0]["field"], "dateUpdated");
    assert_eq!(searches[0]["filters"][0]["operator"], "range");
    assert_eq!(
        searches[0]["sort"][0],
        json!({"field": "dateUpdated", "direction": "asc"})
    );
    assert!(searches[0].get("searchAfter").is_none());
    assert!(searches[1]["searchAfter"].is_array());
    assert_eq!(env.drain().await, 25);
    let after = sweep(&env, &sweeper).await;
    assert_eq!(
        (after.scanned, after.repaired, after.already_queued),
        (25, 0, 0)
    );
    env.finish().await;
}

pub async fn two_sweepers_of_one_location_make_one_sweep(backend: Backend) {
    let Some(env) = start(backend).await else {
        return;
    };
    linked_ada(&env).await;
    let (a, b) = (sweeper(&env, "replica-a"), sweeper(&env, "replica-b"));
    let before = env.ghl.requests().len();
    // Slow enough that the winner still holds the lease when the other one tries.
    env.ghl.inject_on(
        &Target::route("POST /contacts/search"),
        [Fault::Latency(Duration::from_millis(500))],
    );
    let conn = connection(&env).await;
    let (first, second) = tokio::join!(a.sweep(&conn), b.sweep(&conn));
    let outcomes = [first.unwrap(), second.unwrap()];
    let done = outcomes
        .iter()
        .filter(|o| matches!(o, SweepOutcome::Done(_)))
        .count();
    assert_eq!(done, 1, "{outcomes:?}");
    assert!(outcomes.contains(&SweepOutcome::Busy), "{outcomes:?}");
    let searches = env.ghl.requests()[before..]
        .iter()
        .filter(|r| r.path.ends_with("/contacts/search"))
        .count();
    assert_eq!(searches, 1);
    // Once released, the other replica may sweep.
    assert!(matches!(
        b.sweep(&conn).await.unwrap(),
        SweepOutcome::Done(_)
    ));
    env.finish().await;
}

pub async fn a_ghl_backfill_queues_each_tagged_contact_once(backend: Backend) {
    let Some(env) = start(backend).await else {
        return;
    };
    let rule_tag = first_rule_tag(&env);
    for n in 0..12 {
        let tags = if n % 3 == 0 {
            json!([rule_tag])
        } else {
            json!(["other"])
        };
        let fields = json!({"email": format!("b{n}@example.com"), "tags": tags});
        env.ghl.add_contact(LOCATION, &fields);
    }
    let sweeper = sweeper(&env, "replica-a");
    let conn = connection(&env).await;
    let mut pages: Vec<BackfillPage> = Vec::new();
    let dry = BackfillOptions {
        dry_run: true,
        ..BackfillOptions::default()
    };
    let totals = sweeper
        .backfill_from_ghl(&conn, dry, &mut |p| pages.push(*p))
        .await
        .unwrap()
        .unwrap();
    assert_eq!((totals.scanned, totals.queued, totals.pages), (12, 4, 2));
    assert_eq!(pages.len(), 2);
    assert_eq!(sweep_events(&env).await, 0, "a dry run records nothing");

    let run = BackfillOptions::default();
    let totals = sweeper
        .backfill_from_ghl(&conn, run, &mut |_| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!((totals.queued, totals.already_queued), (4, 0));
    let rerun = sweeper
        .backfill_from_ghl(&conn, run, &mut |_| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!((rerun.queued, rerun.already_queued), (0, 4));
    assert_eq!(sweep_events(&env).await, 4);
    env.finish().await;
}

fn first_rule_tag(env: &Env) -> String {
    let engine = startup::sync_engine(&env.state).unwrap();
    let tags = tovuti_ghl_bridge::reconcile::rule_tags(engine.mapping());
    tags.into_iter()
        .next()
        .expect("the example mapping has a tag rule")
}

pub async fn a_location_is_swept_once_per_interval(backend: Backend) {
    let Some(env) = start(backend).await else {
        return;
    };
    linked_ada(&env).await;
    let searches = |env: &Env| {
        env.ghl
            .requests()
            .iter()
            .filter(|r| r.path.ends_with("/contacts/search"))
            .count()
    };
    let a = sweeper(&env, "replica-a");
    a.sweep_due().await;
    assert_eq!(searches(&env), 1, "a location never swept is due");
    a.sweep_due().await;
    // Another replica sees the stored cursor: the location was swept within the interval.
    sweeper(&env, "replica-b").sweep_due().await;
    assert_eq!(searches(&env), 1);
    env.finish().await;
}

pub async fn a_ghl_backfill_since_a_date_selects_only_contacts_updated_from_it(backend: Backend) {
    let Some(env) = start(backend).await else {
        return;
    };
    let rule_tag = first_rule_tag(&env);
    for n in 0..3 {
        let fields = json!({"email": format!("s{n}@example.com"), "tags": [rule_tag]});
        env.ghl.add_contact(LOCATION, &fields);
    }
    let sweeper = sweeper(&env, "replica-a");
    let conn = connection(&env).await;
    let at = |text: &str| Some(text.parse::<jiff::Timestamp>().unwrap());
    let later = BackfillOptions {
        dry_run: true,
        since: at("2999-01-01T00:00:00Z"),
        ..BackfillOptions::default()
    };
    let none = sweeper
        .backfill_from_ghl(&conn, later, &mut |_| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!((none.scanned, none.queued), (0, 0));
    let earlier = BackfillOptions {
        since: at("2000-01-01T00:00:00Z"),
        ..later
    };
    let all = sweeper
        .backfill_from_ghl(&conn, earlier, &mut |_| {})
        .await
        .unwrap()
        .unwrap();
    assert_eq!((all.scanned, all.queued), (3, 3));
    env.finish().await;
}

pub async fn a_location_without_a_tovuti_api_is_not_swept(backend: Backend) {
    let Some(env) = start(backend).await else {
        return;
    };
    let searches = |from: usize| {
        env.ghl.requests()[from..]
            .iter()
            .filter(|r| r.path.ends_with("/contacts/search"))
            .count()
    };
    let mut config = (*env.state.config).clone();
    config.tovuti.base_url = String::new();
    let no_tovuti = startup::build_state(config, tokio_util::sync::CancellationToken::new())
        .await
        .unwrap();
    let engine = startup::sync_engine(&no_tovuti).unwrap();
    let before = env.ghl.requests().len();
    Sweeper::new(&no_tovuti, Arc::new(engine)).sweep_due().await;
    assert_eq!(searches(before), 0);

    // The same location with its Tovuti API is swept.
    sweeper(&env, "replica-a").sweep_due().await;
    assert_eq!(searches(before), 1);
    env.finish().await;
}
