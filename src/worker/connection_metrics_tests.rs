//! The worker's counters name the connection whose event it was.

use super::tests::setup;
use crate::store::Millis;
use crate::sync::ProcessError;

const T0: Millis = Millis(1_800_000_000_000);

#[tokio::test(flavor = "current_thread")]
async fn two_connections_events_are_counted_apart() {
    let s = setup().await;
    s.record_for(Some("acme"), "a1", "user:1", T0).await;
    s.record_for(Some("acme"), "a2", "user:2", T0).await;
    s.record_for(Some("zenith"), "z1", "user:3", T0).await;
    s.record_for(None, "d1", "user:4", T0).await;
    s.processor
        .answer("z1", vec![Err(ProcessError::Permanent("422".into()))]);
    s.worker().run_once(T0).await.unwrap();

    let text = s.services.metrics.encode();
    let count = |series: &str| {
        text.lines()
            .find_map(|l| l.strip_prefix(series)?.trim().parse::<u64>().ok())
            .unwrap_or(0)
    };
    let done = |c: &str| {
        format!(r#"bridge_worker_events_total{{connection="{c}",source="tovuti",outcome="done"}}"#)
    };
    assert_eq!(count(&done("acme")), 2, "{text}");
    assert_eq!(count(&done("zenith")), 0, "{text}");
    assert_eq!(
        count(&done("default")),
        1,
        "an event without one is the default's"
    );
    let dead = r#"bridge_dead_events_total{connection="zenith",source="tovuti",reason="rejected"}"#;
    assert_eq!(count(dead), 1, "{text}");
    let acme_dead =
        r#"bridge_dead_events_total{connection="acme",source="tovuti",reason="rejected"}"#;
    assert_eq!(count(acme_dead), 0);
}
