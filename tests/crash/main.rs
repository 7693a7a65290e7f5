//! Crash test: the real binary takes 2,000 signed Tovuti webhooks over 200 users while it
//! is killed with SIGKILL at random moments and restarted on the same SQLite file. Once
//! the inbox drains, every webhook answered 2xx must have made exactly one note at the
//! fake GHL (none lost, none doubled), and no note may lack an acknowledged webhook.
//! The kill moments come from a seed (`CRASH_SEED`, printed) to reproduce a run.
//! `faults.rs` runs the same against fakes that also fail a share of their writes.

#![expect(
    clippy::unwrap_used,
    reason = "a test fails loudly on any unexpected error"
)]

mod bridge;
#[path = "../common/mod.rs"]
mod common;
mod faults;

use std::collections::{HashMap, HashSet};
use std::time::{Duration, Instant};

use futures::StreamExt as _;
use jiff::Timestamp;
use rand::SeedableRng as _;
use rand::rngs::StdRng;
use serde_json::json;
use tokio::process::Child;
use tovuti_ghl_bridge::sandbox::ghl::FakeGhl;
use tovuti_ghl_bridge::sandbox::samples;

use bridge::{Bridge, Event, Sender};
// A quota the fake GHL never runs out of: the test measures crash safety, not the throttle.
use common::fakes::roomy_ghl;

const USERS: usize = 200;
const EVENTS_PER_USER: usize = 10;
/// Deliveries in flight at once, as a busy sender would have.
const IN_FLIGHT: usize = 24;
const KILLS: usize = 5;
/// Each note's text carries this followed by the id of the webhook behind it.
const MARK: &str = "crash-effect-";
/// The whole stream, resends across restarts included, is bounded by this.
const STREAM_LIMIT: Duration = Duration::from_secs(90);

/// Ten `note.created` webhooks per user, interleaved across users, each note's text
/// naming its webhook so every effect is attributable.
fn events() -> Vec<Event> {
    let mut events = Vec::with_capacity(USERS * EVENTS_PER_USER);
    for n in 0..EVENTS_PER_USER {
        for user in 0..USERS {
            let id = format!("evt-crash-{user:03}-{n:02}");
            let mut body = samples::tovuti("note.created", &id, Timestamp::now());
            body["data"]["user"]["id"] = json!(10_000 + user);
            body["data"]["user"]["email"] = json!(format!("crash-{user}@example.com"));
            body["data"]["note"]["id"] = json!(user * EVENTS_PER_USER + n);
            body["data"]["note"]["body"] = json!(format!("{MARK}{id}"));
            events.push(Event {
                id,
                body: body.to_string(),
                sender: Sender::Tovuti,
            });
        }
    }
    events
}

/// Every note at the fake, counted by the webhook id its text names.
fn effects(ghl: &FakeGhl) -> HashMap<String, usize> {
    let mut seen = HashMap::new();
    count_marked(ghl, "notes", "body", &mut seen);
    seen
}

/// Counts the contacts' `kind` records (notes, tasks) by the webhook id their `field`
/// names after [`MARK`].
fn count_marked(ghl: &FakeGhl, kind: &str, field: &str, seen: &mut HashMap<String, usize>) {
    for contact in ghl.contacts() {
        let contact = contact["id"].as_str().unwrap_or_default().to_owned();
        for record in ghl.activities(kind, &contact) {
            let text = record[field].as_str().unwrap_or_default();
            let id = text
                .split(MARK)
                .nth(1)
                .and_then(|rest| rest.split_whitespace().next())
                .unwrap_or("(unmarked)");
            *seen.entry(id.to_owned()).or_insert(0) += 1;
        }
    }
}

/// What the sender saw, and when the kills came (seconds since the start).
struct Streamed {
    acknowledged: HashSet<String>,
    /// Acknowledged only after a refused or cut delivery was sent again.
    resent: usize,
    ended_at: f64,
    kills_at: Vec<f64>,
}

/// Streams every event, `IN_FLIGHT` at a time, while the binary is killed at random
/// moments; returns what was acknowledged and the binary running at the end.
async fn stream_while_killing(
    bridge: &Bridge,
    events: &[Event],
    kills: usize,
    rng: &mut StdRng,
    began: Instant,
) -> (Streamed, Child) {
    let child = bridge.start().await;
    let deadline = Instant::now() + STREAM_LIMIT;
    let stream = async {
        let answers: Vec<(&Event, Option<u32>)> = futures::stream::iter(events)
            .map(|event| async move { (event, bridge.deliver(event, deadline).await) })
            .buffer_unordered(IN_FLIGHT)
            .collect()
            .await;
        (answers, began.elapsed().as_secs_f64())
    };
    let kills = bridge.kill_at_random(kills, child, rng, began);
    let ((answers, ended_at), (child, kills_at)) = tokio::join!(stream, kills);
    let acknowledged = answers
        .iter()
        .filter(|(_, tries)| tries.is_some())
        .map(|(event, _)| event.id.clone())
        .collect();
    let resent = answers
        .iter()
        .filter(|(_, tries)| tries.is_some_and(|n| n > 1))
        .count();
    let streamed = Streamed {
        acknowledged,
        resent,
        ended_at,
        kills_at,
    };
    (streamed, child)
}

/// The notes at the fake set against the acknowledged webhooks.
struct Tally {
    effects: usize,
    lost: Vec<String>,
    duplicated: Vec<(String, usize)>,
    /// Notes naming a webhook that was never acknowledged.
    stray: Vec<String>,
}

impl Tally {
    fn new(seen: &HashMap<String, usize>, acknowledged: &HashSet<String>) -> Self {
        let mut lost: Vec<String> = acknowledged
            .iter()
            .filter(|id| !seen.contains_key(*id))
            .cloned()
            .collect();
        lost.sort();
        let duplicated = seen
            .iter()
            .filter(|(_, n)| **n > 1)
            .map(|(id, n)| (id.clone(), *n))
            .collect();
        let stray = seen
            .keys()
            .filter(|id| !acknowledged.contains(*id))
            .cloned()
            .collect();
        Self {
            effects: seen.values().sum(),
            lost,
            duplicated,
            stray,
        }
    }

    fn extra_effects(&self) -> usize {
        self.duplicated.iter().map(|(_, n)| n - 1).sum()
    }
}

/// `CRASH_SEED`, or a fresh random seed.
fn seed() -> u64 {
    std::env::var("CRASH_SEED")
        .ok()
        .and_then(|s| s.parse().ok())
        .unwrap_or_else(rand::random::<u64>)
}

#[tokio::test(flavor = "multi_thread", worker_threads = 2)]
async fn every_acknowledged_webhook_has_exactly_one_effect_across_kill_9_restarts() {
    let seed = seed();
    let mut rng = StdRng::seed_from_u64(seed);
    let began = Instant::now();
    let ghl = FakeGhl::start(roomy_ghl()).await.unwrap();
    let bridge = Bridge::new(&ghl);
    let events = events();

    let (streamed, mut child) =
        stream_while_killing(&bridge, &events, KILLS, &mut rng, began).await;
    let inbox = bridge.drained().await;
    child.start_kill().unwrap();
    child.wait().await.unwrap();

    let tally = Tally::new(&effects(&ghl), &streamed.acknowledged);
    println!(
        "crash test: {} sent, {} acknowledged ({} after a resend), {KILLS} kills (at {:.1?} s; \
         stream ended at {:.1} s), {} effects, {} lost, {} duplicated, {} unacknowledged; \
         {} events retaken after a kill, {} unfinished notes reconciled ({} already made, \
         adopted) (seed {seed}, {:.1} s)",
        events.len(),
        streamed.acknowledged.len(),
        streamed.resent,
        streamed.kills_at,
        streamed.ended_at,
        tally.effects,
        tally.lost.len(),
        tally.extra_effects(),
        tally.stray.len(),
        inbox.retaken,
        inbox.reconciled,
        inbox.adopted,
        began.elapsed().as_secs_f64(),
    );
    let context = format!(
        "seed {seed}, inbox {:?}, dead {:?}",
        inbox.statuses, inbox.dead
    );
    assert!(tally.lost.is_empty(), "lost ({context}): {:?}", tally.lost);
    assert!(
        tally.duplicated.is_empty(),
        "duplicated ({context}): {:?}",
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
}
