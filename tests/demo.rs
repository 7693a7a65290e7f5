//! The `demo` story, run in-process: what a new user sees must be true.

use tovuti_ghl_bridge::cli::demo::{
    ADA_EMAIL, DemoArgs, EDITED_COMPANY, GRACE_EMAIL, Report, run_demo,
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
    assert!(
        report.steps.iter().all(|step| step.status == 200),
        "{report}"
    );
    for step in 1..=6 {
        assert_eq!(
            status(&report, step),
            Some(EventStatus::Done),
            "step {step}: {report}"
        );
    }
    assert_eq!(status(&report, 7), Some(EventStatus::Echo), "{report}");
}

#[tokio::test]
async fn the_duplicate_delivery_is_the_same_event_and_adds_no_note() {
    let report = demo_report().await;

    let first = report.event(3).and_then(|event| event.event_id);
    let again = report.event(6).and_then(|event| event.event_id);
    assert!(first.is_some());
    assert_eq!(first, again, "{report}");
    assert_eq!(report.steps[5].status, 200, "{report}");
    assert_eq!(report.steps[5].outcome, "duplicate", "{report}");
    let ada = report.contact(ADA_EMAIL).expect("Ada's contact in GHL");
    assert_eq!(ada.notes.len(), 1, "{report}");
    assert!(
        ada.notes[0].contains("Asked about the advanced track."),
        "{report}"
    );
    assert_eq!(ada.tasks.len(), 1, "one milestone task: {report}");
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
