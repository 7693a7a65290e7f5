//! `events show` as plain text: the event, then its attempts, actions and skipped items.

use std::fmt::Write as _;

use crate::admin::views::EventDetailView;

pub fn detail(view: &EventDetailView) -> String {
    let e = &view.event;
    let mut out = String::new();
    let fields = [
        ("id", e.id.clone()),
        ("status", e.status.to_owned()),
        ("source", e.source.to_owned()),
        ("type", e.event_type.clone()),
        (
            "connection",
            e.connection.clone().unwrap_or_else(|| "-".into()),
        ),
        ("entity", e.entity.clone().unwrap_or_else(|| "-".into())),
        ("attempts", e.attempts.to_string()),
        ("received", e.received_at.clone()),
        ("next attempt", e.next_attempt_at.clone()),
        (
            "last error",
            e.last_error.clone().unwrap_or_else(|| "-".into()),
        ),
    ];
    for (name, value) in fields {
        let _ = writeln!(out, "{name:<13} {value}");
    }
    let _ = writeln!(out, "\nattempts ({}):", view.attempt_log.len());
    for a in &view.attempt_log {
        let error = a.error.as_deref().unwrap_or("");
        let _ = writeln!(
            out,
            "  #{:<3} {}  {:>6} ms  {:<10} {}",
            a.attempt, a.started_at, a.duration_ms, a.outcome, error
        );
    }
    let _ = writeln!(out, "\nactions ({}):", view.actions.len());
    for a in &view.actions {
        let _ = writeln!(
            out,
            "  {}  {:<8} {}  {}",
            a.recorded_at, a.state, a.action, a.key
        );
    }
    if !view.skipped.is_empty() {
        let _ = writeln!(out, "\nskipped ({}):", view.skipped.len());
        for s in &view.skipped {
            let _ = writeln!(
                out,
                "  #{:<3} {} {}: {}",
                s.attempt, s.platform, s.item, s.reason
            );
        }
    }
    out
}
