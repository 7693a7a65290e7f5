//! The `demo` story, run in-process: what a new user sees must be true.

use tovuti_ghl_bridge::cli::demo::{
    ADA_EMAIL, DemoArgs, EDITED_COMPANY, GRACE_EMAIL, Report, Via, run_demo,
};
use tovuti_ghl_bridge::store::EventStatus;

async fn demo_report() -> Report {
    let report = run_demo(&DemoArgs::default(), |_| {})
        .await
        .expect("the demo runs to its report");
    assert!(!report.timed_out, "{report}");
    report
}

fn status(report: &Report, step: usize) -> Option<EventStatus> {
    report.event(step).and_then(|event| event.status)
}

#[tokio::test]
async fn the_demo_story_ends_with_every_event_done_or_echo() {
    let report = demo_report().await;

    assert!(report.succeeded(), "{report}");
    let mut webhooks = report.steps.iter().filter(|step| step.via == Via::Webhook);
    assert!(webhooks.clone().count() >= 5, "{report}");
    assert!(webhooks.all(|step| step.status == Some(200)), "{report}");
    for step in 1..=8 {
        assert_eq!(
            status(&report, step),
            Some(EventStatus::Done),
            "step {step}: {report}"
        );
    }
    assert_eq!(status(&report, 9), Some(EventStatus::Echo), "{report}");
}

#[tokio::test]
async fn the_learner_steps_come_from_the_poller_and_one_tovuti_event_is_pushed() {
    let report = demo_report().await;

    let polled = [
        "user.created",
        "enrollment.created",
        "course.completed",
        "award.earned",
    ];
    for (index, event_type) in polled.into_iter().enumerate() {
        let step = &report.steps[index];
        assert_eq!(step.via, Via::Poll, "step {}: {report}", index + 1);
        assert_eq!(step.event_type, event_type, "{report}");
        assert!(step.outcome.ends_with("1 event queued"), "{report}");
        // The outcome is read from the inbox among `poller`-source events of this type
        // received during the step's scan: done means the poller queued it and the
        // worker applied it.
        let event = report.event(index + 1).expect("an outcome per step");
        assert_eq!(event.via, Via::Poll, "{report}");
        assert_eq!(event.status, Some(EventStatus::Done), "{report}");
    }
    let pushed: Vec<_> = report
        .steps
        .iter()
        .filter(|step| step.via == Via::Webhook && step.platform == "tovuti")
        .collect();
    assert_eq!(pushed.len(), 2, "the note and its duplicate: {report}");
    assert!(
        pushed.iter().all(|step| step.event_type == "note.created"),
        "{report}"
    );
    assert!(
        report.steps[5..]
            .iter()
            .all(|step| step.via == Via::Webhook),
        "{report}"
    );
}

#[tokio::test]
async fn the_duplicate_delivery_is_the_same_event_and_adds_no_note() {
    let report = demo_report().await;

    let first = report.event(5).and_then(|event| event.event_id);
    let again = report.event(8).and_then(|event| event.event_id);
    assert!(first.is_some());
    assert_eq!(first, again, "{report}");
    assert_eq!(report.steps[7].status, Some(200), "{report}");
    assert_eq!(report.steps[7].outcome, "duplicate", "{report}");
    let ada = report.contact(ADA_EMAIL).expect("Ada's contact in GHL");
    assert_eq!(ada.notes.len(), 1, "{report}");
    assert!(
        ada.notes[0].contains("Asked about the advanced track."),
        "{report}"
    );
    assert_eq!(ada.tasks.len(), 2, "completion and award tasks: {report}");
    assert!(
        ada.tasks.iter().any(|task| task.contains("Follow up")),
        "{report}"
    );
    assert!(
        ada.tasks.iter().any(|task| task.contains("Congratulate")),
        "{report}"
    );
    for tag in ["lms:user", "lms:enrolled", "course-101:enrolled"] {
        assert!(ada.tags.iter().any(|t| t == tag), "{tag}: {report}");
    }
}

#[tokio::test]
async fn the_ghl_edit_and_the_purchase_tag_reach_tovuti() {
    let report = demo_report().await;

    let ada = report.user(ADA_EMAIL).expect("Ada in Tovuti");
    assert!(
        ada.fields
            .iter()
            .any(|(id, value)| *id == 22 && value == EDITED_COMPANY),
        "{report}"
    );
    let grace = report.user(GRACE_EMAIL).expect("Grace created in Tovuti");
    assert!(grace.courses.contains(&101), "{report}");
    assert!(grace.groups.contains(&7), "{report}");
}
