//! A GHL backfill run as a job of the service (what the admin API and the console start)
//! against the fake GHL: it ends done with each contact a tag rule selects queued once,
//! its counters and GHL's search total recorded, and a second job queues nothing.

use serde_json::json;
use tovuti_ghl_bridge::backfill::jobs::StartRequest;
use tovuti_ghl_bridge::config::DEFAULT_CONNECTION;
use tovuti_ghl_bridge::startup;
use tovuti_ghl_bridge::store::{BackfillFrom, BackfillOptions, BackfillRun, BackfillState};

use crate::support::{Backend, Env, LOCATION};

async fn run_job(env: &Env) -> BackfillRun {
    let request = StartRequest {
        connection: DEFAULT_CONNECTION.to_owned(),
        from: BackfillFrom::Ghl,
        options: BackfillOptions::default(),
        started_by: "test0001".to_owned(),
    };
    let started = env.state.backfills.start(request).await.unwrap();
    assert_eq!(started.state, BackfillState::Running);
    env.state.backfills.wait(&started.run.id).await;
    env.state
        .store
        .backfill_run(&started.run.id)
        .await
        .unwrap()
        .unwrap()
}

pub async fn a_ghl_backfill_job_queues_each_tagged_contact_once(backend: Backend) {
    let Some(env) = Env::start(backend).await else {
        return;
    };
    let engine = startup::sync_engine(&env.state).unwrap();
    let rule_tag = tovuti_ghl_bridge::reconcile::rule_tags(engine.mapping())
        .into_iter()
        .next()
        .expect("the example mapping has a tag rule");
    for n in 0..6 {
        let tags = if n % 2 == 0 {
            json!([rule_tag])
        } else {
            json!(["other"])
        };
        let fields = json!({"email": format!("job{n}@example.com"), "tags": tags});
        env.ghl.add_contact(LOCATION, &fields);
    }
    let first = run_job(&env).await;
    assert_eq!(first.state, BackfillState::Done, "{:?}", first.error);
    let counts = first.progress.counts;
    assert_eq!(
        (counts.scanned, counts.queued, counts.already_queued),
        (6, 3, 0)
    );
    assert_eq!(first.progress.stage.as_deref(), Some("contacts"));
    assert!(first.finished_at.is_some());

    let second = run_job(&env).await;
    assert_eq!(second.state, BackfillState::Done, "{:?}", second.error);
    let counts = second.progress.counts;
    assert_eq!((counts.queued, counts.already_queued), (0, 3));
    env.finish().await;
}
