//! `serve` with Tovuti polled and no Tovuti webhook at all: a learner created and enrolled
//! in the tenant becomes one tagged GHL contact, and completing the course makes the one
//! task the shipped mapping's course-completed rule asks for.

use std::time::Duration;

use crate::binary::{Backend, Binary, Fakes, within};

/// The shipped example course (`Intro to Sales`), which the mapping tags by title.
const COURSE: u64 = 101;
/// Every resource is polled this often.
const INTERVAL_SECS: u64 = 1;
/// The intent is "within two poll intervals" (2 s); a debug build sharing two cores with
/// other test binaries gets far more slack so the test never flakes, and the time it
/// really took is printed.
const LIMIT: Duration = Duration::from_secs(60);

const RESOURCES: [&str; 3] = ["users", "progress", "awards"];

/// The tags the shipped mapping gives a learner enrolled in `Intro to Sales` (GHL keeps
/// tags lowercase).
const ENROLLED_TAGS: [&str; 4] = [
    "lms:user",
    "lms:enrolled",
    "course:intro to sales",
    "course-101:enrolled",
];

fn tags(contact: &serde_json::Value) -> Vec<String> {
    contact["tags"]
        .as_array()
        .map(|t| {
            t.iter()
                .filter_map(|t| t.as_str())
                .map(str::to_owned)
                .collect()
        })
        .unwrap_or_default()
}

pub async fn a_learner_created_and_enrolled_without_webhooks_becomes_a_tagged_contact_then_a_task(
    backend: Backend,
) {
    let fakes = Fakes::start().await;
    let Some(mut bridge) = Binary::new(&fakes, backend).await else {
        return;
    };
    // Learners that exist before the service: the first scans only remember them.
    fakes.tovuti.seed_enrolled_users(20, &[COURSE]);
    for key in ["USERS", "PROGRESS", "AWARDS"] {
        bridge.set(
            &format!("BRIDGE_POLLER__{key}_INTERVAL_SECS"),
            INTERVAL_SECS.to_string(),
        );
    }
    let serve = bridge.serve().await;

    within(LIMIT, "the baseline scans", || async {
        for resource in RESOURCES {
            let label = format!("resource=\"{resource}\"");
            let done = bridge
                .metric("bridge_poll_scans_total", &[&label, "result=\"completed\""])
                .await;
            if done < 1.0 {
                return Err(format!("{resource} not scanned yet"));
            }
        }
        Ok(())
    })
    .await;
    assert!(
        bridge.polled_events().await.is_empty(),
        "a baseline queues nothing"
    );
    assert!(fakes.ghl.contacts().is_empty());

    let id = fakes.tovuti.seed_users(1).start;
    assert!(fakes.tovuti.enroll(id, COURSE));
    let email = format!("learner{id}@example.com");
    let took = within(LIMIT, "the tagged contact", || async {
        let found = fakes.contacts_with(&email);
        let tagged = found.first().is_some_and(|c| {
            ENROLLED_TAGS
                .iter()
                .all(|t| tags(c).contains(&(*t).to_owned()))
        });
        if tagged {
            Ok(())
        } else {
            Err(format!("{found:?}"))
        }
    })
    .await;
    eprintln!("created and enrolled → tagged contact in {took:?}");

    fakes.tovuti.complete_course(id, COURSE);
    let contact_id = fakes.contacts_with(&email)[0]["id"]
        .as_str()
        .unwrap()
        .to_owned();
    let took = within(LIMIT, "the follow-up task", || async {
        let tasks = fakes.ghl.activities("tasks", &contact_id);
        if tasks.is_empty() {
            Err("no task yet".to_owned())
        } else {
            Ok(())
        }
    })
    .await;
    eprintln!("course completed → task in {took:?}");

    // Let any duplicate the poller might make surface: every resource scans again and the
    // inbox drains before counting.
    let scans_before = total_scans(&bridge).await;
    within(
        LIMIT,
        "two more scans of each resource and a drained inbox",
        || async {
            let scans = total_scans(&bridge).await;
            let open = bridge.open_events().await;
            if scans >= scans_before + 6.0 && open == 0 {
                Ok(())
            } else {
                Err(format!("{scans} scans, {open} open events"))
            }
        },
    )
    .await;
    bridge.stop(serve).await;

    let contacts = fakes.contacts_with(&email);
    assert_eq!(contacts.len(), 1, "{contacts:?}");
    assert_eq!(fakes.ghl.contacts().len(), 1, "no other learner was synced");
    let tasks = fakes.ghl.activities("tasks", &contact_id);
    let titles: Vec<&str> = tasks.iter().filter_map(|t| t["title"].as_str()).collect();
    assert_eq!(
        titles,
        [format!(
            "[high] Follow up: Learner {id} finished Intro to Sales"
        )],
        "{tasks:?}"
    );
    let events = bridge.polled_events().await;
    let expected = [
        ("user.created", 1),
        ("enrollment.created", 1),
        ("course.completed", 1),
    ];
    assert_eq!(
        events,
        expected.map(|(t, n)| (t.to_owned(), n)).into(),
        "exactly one event per change"
    );
    assert!(bridge.unfinished_or_failed().await.is_empty());
    bridge.finish().await;
}

/// Completed scans of every resource so far.
async fn total_scans(bridge: &Binary) -> f64 {
    bridge
        .metric("bridge_poll_scans_total", &["result=\"completed\""])
        .await
}
