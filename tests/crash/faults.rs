//! The crash test with unreliable platforms: besides the SIGKILLs, the fake GHL and the
//! fake Tovuti fail a fifth of their writes (creates and updates): half of those after
//! making the record (the answer times out or the connection resets), the rest with a
//! 500, 502 or 429 before. Tovuti webhooks make notes and tasks at GHL, GHL purchase-tag
//! webhooks make users at Tovuti; every acknowledged webhook must still have exactly one
//! effect.

use std::collections::HashMap;
use std::time::{Duration, Instant};

use jiff::Timestamp;
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use serde_json::json;
use tovuti_ghl_bridge::sandbox::ghl::{FakeGhl, Fault, RandomFaults, Target};
use tovuti_ghl_bridge::sandbox::samples;
use tovuti_ghl_bridge::sandbox::tovuti::FakeTovuti;

use crate::bridge::{Bridge, Event, LOCATION, Sender};
use crate::common::fakes::{roomy_ghl, tovuti_env};
use crate::{MARK, Tally, count_marked, seed, stream_while_killing};

/// Learners on the Tovuti side; each sends two notes and two course completions.
const LEARNERS: usize = 100;
/// GHL contacts tagged `purchased:course-101`, each making one Tovuti user.
const PURCHASES: usize = 200;
const KILLS: usize = 4;
/// Share of the fakes' writes that fail.
const FAULT_SHARE: f64 = 0.2;
const TOVUTI_TOKEN: &str = "9|crash-tovuti-token";

/// What the fakes do to a faulted write: as many lost answers as refusals.
fn fault_kinds() -> Vec<Fault> {
    vec![
        Fault::AppliedThenHang,
        Fault::AppliedThenReset,
        Fault::AppliedThenReset,
        Fault::Status(500),
        Fault::Status(502),
        Fault::RateLimited(Duration::ZERO),
    ]
}

fn faults(seed: u64) -> RandomFaults {
    RandomFaults {
        target: Target::Writes,
        share: FAULT_SHARE,
        faults: fault_kinds(),
        seed,
    }
}

fn tovuti_event(kind: &str, id: String, learner: usize, n: usize) -> Event {
    let mut body = samples::tovuti(kind, &id, Timestamp::now());
    body["data"]["user"]["id"] = json!(20_000 + learner);
    body["data"]["user"]["email"] = json!(format!("learner-{learner}@example.com"));
    if kind == "note.created" {
        body["data"]["note"]["id"] = json!(learner * 10 + n);
        body["data"]["note"]["body"] = json!(format!("{MARK}{id}"));
    } else {
        // A course of its own, so each completion makes its own task.
        body["data"]["course"]["id"] = json!(5_000 + learner * 10 + n);
        body["data"]["course"]["title"] = json!(format!("{MARK}{id}"));
    }
    Event {
        id,
        body: body.to_string(),
        sender: Sender::Tovuti,
    }
}

fn purchase(n: usize) -> Event {
    let id = format!("wh-crash-{n:03}");
    let mut body = samples::ghl("ContactTagUpdate", LOCATION, &id, Timestamp::now());
    body["id"] = json!(format!("ct_crash_{n:03}"));
    body["email"] = json!(format!("{id}@example.com"));
    body["firstName"] = json!("Buyer");
    body["lastName"] = json!(format!("No{n}"));
    body["name"] = json!(format!("Buyer No{n}"));
    body["tags"] = json!(["purchased:course-101"]);
    Event {
        id,
        body: body.to_string(),
        sender: Sender::Ghl,
    }
}

/// Notes, tasks and purchases, interleaved so every kind is in flight at once.
fn events() -> Vec<Event> {
    let mut events = Vec::new();
    let mut purchases = (0..PURCHASES).map(purchase);
    for n in 0..2 {
        for learner in 0..LEARNERS {
            let note = format!("evt-fnote-{learner:03}-{n}");
            events.push(tovuti_event("note.created", note, learner, n));
            let done = format!("evt-ftask-{learner:03}-{n}");
            events.push(tovuti_event("course.completed", done, learner, n));
            events.extend(purchases.next());
        }
    }
    events.extend(purchases);
    events
}

/// Notes and tasks at GHL and users at Tovuti, counted by the webhook behind them.
fn effects(ghl: &FakeGhl, tovuti: &FakeTovuti) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    count_marked(ghl, "notes", "body", &mut seen);
    count_marked(ghl, "tasks", "title", &mut seen);
    for user in tovuti.users() {
        let email = user.email.unwrap_or_default();
        let id = email.split('@').next().unwrap_or("(no email)");
        *seen.entry(id.to_owned()).or_insert(0) += 1;
    }
    seen
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_webhook_has_one_effect_while_the_platforms_lose_answers() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let began = Instant::now();
    let ghl = FakeGhl::start(roomy_ghl()).await.unwrap();
    let tovuti = FakeTovuti::start(TOVUTI_TOKEN).await.unwrap();
    ghl.inject_randomly(faults(seed));
    tovuti.inject_randomly(faults(seed.wrapping_add(1)));
    let mut settings = tovuti_env(&tovuti, TOVUTI_TOKEN);
    settings.extend([
        // A lost answer costs a short wait, not the shipped 30 s.
        ("BRIDGE_GHL__TIMEOUT_MS", "500".to_owned()),
        ("BRIDGE_TOVUTI__TIMEOUT_MS", "500".to_owned()),
        ("BRIDGE_GHL__RETRY_BASE_MS", "20".to_owned()),
        // The fakes apply a request before losing its answer, so nothing is still in
        // flight a second later.
        ("BRIDGE_WORKER__SETTLE_SECS", "1".to_owned()),
    ]);
    let bridge = Bridge::with(&ghl, settings);
    let events = events();

    let (streamed, mut child) =
        stream_while_killing(&bridge, &events, KILLS, &mut rng, began).await;
    let inbox = bridge.drained().await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    let tally = Tally::new(&effects(&ghl, &tovuti), &streamed.acknowledged);
    let summary = format!(
        "fault crash test: {} sent, {} acknowledged ({} after a resend), {KILLS} kills (at \
         {:.1?} s), {} faults injected (GHL {}, Tovuti {}), {} effects, {} lost, {} \
         duplicated, {} unacknowledged; {} attempts ended with an unknown outcome, {} events \
         tried more than once (seed {seed}, {:.1} s)",
        events.len(),
        streamed.acknowledged.len(),
        streamed.resent,
        streamed.kills_at,
        ghl.faults_injected() + tovuti.faults_injected(),
        ghl.faults_injected(),
        tovuti.faults_injected(),
        tally.effects,
        tally.lost.len(),
        tally.extra_effects(),
        tally.stray.len(),
        inbox.unknown,
        inbox.retaken,
        began.elapsed().as_secs_f64(),
    );
    println!("{summary}");
    let context = format!(
        "seed {seed}, inbox {:?}, dead {:?}",
        inbox.statuses, inbox.dead
    );
    assert!(summary.contains(" 0 lost, 0 duplicated,"), "{summary}");
    assert!(tally.lost.is_empty(), "lost ({context}): {:?}", tally.lost);
    assert!(
        tally.duplicated.is_empty(),
        "doubled ({context}): {:?}",
        tally.duplicated
    );
    assert!(
        tally.stray.is_empty(),
        "without a 2xx ({context}): {:?}",
        tally.stray
    );
    assert_eq!(
        streamed.acknowledged.len(),
        events.len(),
        "the sender gave up ({context})"
    );
    assert_eq!(inbox.statuses.get("dead"), None, "dead events ({context})");
    assert!(
        inbox.unknown > 0,
        "no answer was lost: the test tested nothing ({context})"
    );
}
