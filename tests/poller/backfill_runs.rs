//! `backfill --from tovuti` run as an operator runs it (no terminal: plain lines and a
//! summary on stdout) against a fake tenant, then `serve` syncing what it queued: every
//! learner ends as exactly one GHL contact, a second run queues nothing, and a run cut by
//! Ctrl-C resumes without duplicates.

use std::time::{Duration, Instant};

use tokio::io::{AsyncBufReadExt as _, BufReader};

use crate::binary::{Backend, Binary, Fakes, LOCATION, signal, within};

const COURSE: u64 = 101;
/// Learners of the big tenant. The issue asks for 10,000, which passes but takes about
/// 190 s in a debug build on two shared cores: the scan and queueing take 4 s, the
/// worker's drain of the 20,000 events about 183 s (some 110 events/s, no faster with 32
/// workers). 3,000 keeps the test near a minute (drain ≈ 52 s); set
/// `E2E_BACKFILL_LEARNERS=10000` to run the full size.
const LEARNERS: u64 = 3_000;
/// Bounds the worker's drain of the queued events.
const DRAIN_LIMIT: Duration = Duration::from_secs(900);

fn stdout(output: &std::process::Output) -> String {
    let text = String::from_utf8_lossy(&output.stdout).into_owned();
    let errors = String::from_utf8_lossy(&output.stderr);
    assert_eq!(output.status.code(), Some(0), "{text}\n{errors}");
    text
}

/// The event counts a backfill of `n` enrolled learners queues: one `user.created` and
/// one `enrollment.created` each.
fn events_of(n: u64) -> std::collections::HashMap<String, i64> {
    let n = i64::try_from(n).unwrap();
    [
        ("user.created".to_owned(), n),
        ("enrollment.created".to_owned(), n),
    ]
    .into()
}

/// Starts `serve`, waits until the inbox is empty and stops it; returns the drain time.
async fn drain(bridge: &Binary) -> Duration {
    let serve = bridge.serve().await;
    let took = within(DRAIN_LIMIT, "the worker's drain", || async {
        match bridge.open_events().await {
            0 => Ok(()),
            open => Err(format!("{open} open events")),
        }
    })
    .await;
    bridge.stop(serve).await;
    took
}

/// Every learner `learner{id}@example.com` of `ids` has exactly one contact, and GHL
/// holds nothing else.
fn one_contact_each(fakes: &Fakes, ids: std::ops::Range<u64>) {
    let counts = fakes.contacts_by_email();
    let expected = usize::try_from(ids.end - ids.start).unwrap();
    assert_eq!(counts.len(), expected, "one email per learner");
    for id in ids {
        let email = format!("learner{id}@example.com");
        assert_eq!(counts.get(&email), Some(&1), "{email}");
    }
}

pub async fn backfill_queues_every_learner_once_and_serve_makes_exactly_one_contact_each(
    backend: Backend,
) {
    let fakes = Fakes::start().await;
    let Some(bridge) = Binary::new(&fakes, backend).await else {
        return;
    };
    let learners = std::env::var("E2E_BACKFILL_LEARNERS")
        .ok()
        .and_then(|n| n.parse().ok())
        .unwrap_or(LEARNERS);
    let ids = fakes.tovuti.seed_enrolled_users(learners, &[COURSE]);
    let items = 2 * learners;

    let began = Instant::now();
    let dry = stdout(&bridge.backfill(&["--from", "tovuti", "--dry-run"]).await);
    eprintln!("dry run: {:?}", began.elapsed());
    assert!(
        dry.starts_with("backfill: scanned "),
        "a first plain line: {dry}"
    );
    assert!(
        dry.contains(&format!(
            "backfill dry run (nothing was queued): scanned {items}, would queue {items}, \
             already queued 0, unreadable 0"
        )),
        "{dry}"
    );
    assert!(
        bridge.polled_events().await.is_empty(),
        "a dry run queues nothing"
    );

    let began = Instant::now();
    let first = stdout(&bridge.backfill(&["--from", "tovuti"]).await);
    eprintln!("backfill: {:?}", began.elapsed());
    assert!(first.starts_with("backfill: scanned "), "{first}");
    assert!(
        first.contains(&format!(
            "backfill done: scanned {items}, queued {items}, already queued 0, unreadable 0"
        )),
        "{first}"
    );
    assert_eq!(bridge.polled_events().await, events_of(learners));

    let again = stdout(&bridge.backfill(&["--from", "tovuti"]).await);
    assert!(
        again.contains(&format!(
            "backfill done: scanned {items}, queued 0, already queued {items}"
        )),
        "{again}"
    );
    assert_eq!(bridge.polled_events().await, events_of(learners));

    let took = drain(&bridge).await;
    eprintln!("drain of {items} events: {took:?}");
    one_contact_each(&fakes, ids);
    assert_eq!(bridge.duplicated_events().await, 0);
    assert!(bridge.unfinished_or_failed().await.is_empty());
    bridge.finish().await;
}

/// Learners of the interrupted run's tenant: at the default 2 Tovuti requests/s its 20
/// pages take about 10 s, so a Ctrl-C after the first page always lands mid-run.
const CUT_LEARNERS: u64 = 1_000;

/// The `queued N` of a progress line or summary.
fn queued(text: &str) -> u64 {
    let after = text.rsplit_once(", queued ").map(|(_, rest)| rest).unwrap();
    after.split(',').next().unwrap().parse().unwrap()
}

pub async fn a_backfill_cut_by_ctrl_c_exits_130_and_a_rerun_completes_without_duplicates(
    backend: Backend,
) {
    let fakes = Fakes::start().await;
    let Some(mut bridge) = Binary::new(&fakes, backend).await else {
        return;
    };
    let ids = fakes.tovuti.seed_enrolled_users(CUT_LEARNERS, &[COURSE]);
    bridge.set("BRIDGE_POLLER__REQUESTS_PER_SECOND", "2");

    let mut child = bridge.spawn_backfill(&["--from", "tovuti"]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    assert!(first.starts_with("backfill: scanned "), "{first}");
    signal(&child, "-INT").await;
    let status = child.wait().await.unwrap();
    let mut rest = Vec::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        rest.push(line);
    }
    let summary = rest.last().cloned().unwrap_or_default();
    assert_eq!(status.code(), Some(130), "{rest:?}");
    assert!(
        summary.starts_with("backfill interrupted (run it again to resume where it stopped)"),
        "{summary}"
    );
    let cut_queued = queued(&summary);
    let recorded: i64 = bridge.polled_events().await.values().sum();
    assert_eq!(u64::try_from(recorded).unwrap(), cut_queued, "{summary}");
    assert!(
        cut_queued < 2 * CUT_LEARNERS,
        "the cut came mid-run: {summary}"
    );

    bridge.set("BRIDGE_POLLER__REQUESTS_PER_SECOND", "0");
    let rerun = stdout(&bridge.backfill(&["--from", "tovuti"]).await);
    let done = rerun.lines().last().unwrap_or_default();
    assert!(done.starts_with("backfill done: "), "{rerun}");
    assert_eq!(
        cut_queued + queued(done),
        2 * CUT_LEARNERS,
        "{summary}\n{done}"
    );
    assert_eq!(bridge.polled_events().await, events_of(CUT_LEARNERS));
    assert_eq!(bridge.duplicated_events().await, 0);

    drain(&bridge).await;
    one_contact_each(&fakes, ids);
    assert!(bridge.unfinished_or_failed().await.is_empty());
    bridge.finish().await;
}

/// The tag the shipped mapping's GHL → Tovuti rule reacts to (creates the user and
/// enrolls them in `Intro to Sales`).
const PURCHASED: &str = "purchased:course-101";

pub async fn backfill_from_ghl_creates_each_tagged_contacts_tovuti_user_once(backend: Backend) {
    let fakes = Fakes::start().await;
    let Some(bridge) = Binary::new(&fakes, backend).await else {
        return;
    };
    let buyers: Vec<String> = (1..=3).map(|n| format!("buyer{n}@example.com")).collect();
    for (n, email) in buyers.iter().enumerate() {
        let fields = serde_json::json!({
            "email": email, "firstName": format!("Buyer{n}"), "lastName": "Example",
            "tags": [PURCHASED],
        });
        fakes.ghl.add_contact(LOCATION, &fields);
    }
    let bystander = serde_json::json!({"email": "bystander@example.com", "tags": ["newsletter"]});
    fakes.ghl.add_contact(LOCATION, &bystander);

    let first = stdout(&bridge.backfill(&["--from", "ghl"]).await);
    let done = first.lines().last().unwrap_or_default();
    assert!(done.starts_with("backfill done: "), "{first}");
    assert_eq!(queued(done), 3, "{done}");
    drain(&bridge).await;

    let again = stdout(&bridge.backfill(&["--from", "ghl"]).await);
    let done = again.lines().last().unwrap_or_default();
    assert_eq!(queued(done), 0, "a second run queues nothing: {done}");
    drain(&bridge).await;

    let users = fakes.tovuti.users();
    for email in &buyers {
        let found: Vec<_> = users
            .iter()
            .filter(|u| u.email.as_deref() == Some(email))
            .collect();
        assert_eq!(found.len(), 1, "{email}: {users:?}");
        assert!(
            found[0].enrolled_course_ids.iter().any(|c| c.0 == COURSE),
            "{email} enrolled: {:?}",
            found[0]
        );
    }
    assert_eq!(
        users.len(),
        3,
        "the untagged contact made no user: {users:?}"
    );
    bridge.finish().await;
}

pub async fn a_ghl_backfill_cut_by_ctrl_c_releases_its_lease_and_a_rerun_completes(
    backend: Backend,
) {
    let fakes = Fakes::start().await;
    let Some(mut bridge) = Binary::new(&fakes, backend).await else {
        return;
    };
    for n in 0..300 {
        let email = format!("buyer{n}@example.com");
        fakes.ghl.add_contact(
            LOCATION,
            &serde_json::json!({"email": email, "tags": [PURCHASED]}),
        );
    }
    // The run may spend a tenth of 20 requests per 10 s: after the first search page the
    // next waits seconds, so a Ctrl-C after the first progress line lands mid-run.
    bridge.set("BRIDGE_GHL__RATE_LIMIT_MAX", "20");
    let mut child = bridge.spawn_backfill(&["--from", "ghl"]);
    let mut lines = BufReader::new(child.stdout.take().unwrap()).lines();
    let first = lines.next_line().await.unwrap().unwrap();
    assert!(first.starts_with("backfill: scanned "), "{first}");
    signal(&child, "-INT").await;
    assert_eq!(child.wait().await.unwrap().code(), Some(130));
    let mut summary = String::new();
    while let Some(line) = lines.next_line().await.unwrap() {
        summary = line;
    }
    assert!(summary.starts_with("backfill interrupted"), "{summary}");

    bridge.set("BRIDGE_GHL__RATE_LIMIT_MAX", "100000");
    let rerun = stdout(&bridge.backfill(&["--from", "ghl"]).await);
    let done = rerun.lines().last().unwrap_or_default();
    assert!(done.starts_with("backfill done: "), "{rerun}");
    assert_eq!(queued(&summary) + queued(done), 300, "{summary}\n{done}");
    bridge.finish().await;
}
