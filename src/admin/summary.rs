//! Per-connection summaries: dead events by reason, and the unfinished backlog.

use std::collections::BTreeMap;

use serde::Serialize;

use super::rfc3339;
use crate::store::{ConnectionBacklog, DeadErrors, EventStatus, Millis, Store, StoreResult};

/// Longest reason shown; longer first segments are cut (an error without a colon).
const MAX_REASON: usize = 120;

/// Dead events of one connection, by reason.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct DeadLetters {
    pub connection: Option<String>,
    pub dead: u64,
    pub reasons: Vec<ReasonCount>,
}

#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct ReasonCount {
    pub reason: String,
    pub count: u64,
}

/// The short reason of an error: its text up to the first colon (errors are written
/// "what failed: why", so this groups by what failed), at most `MAX_REASON` characters.
pub fn reason(error: Option<&str>) -> String {
    let Some(error) = error else {
        return "unknown".to_owned();
    };
    let head = error.split(':').next().unwrap_or_default().trim();
    if head.is_empty() {
        return "unknown".to_owned();
    }
    head.chars().take(MAX_REASON).collect()
}

/// Dead events per connection and reason, the most frequent reason first.
pub async fn dead_letters(store: &dyn Store) -> StoreResult<Vec<DeadLetters>> {
    Ok(group_dead(store.dead_event_errors().await?))
}

fn group_dead(rows: Vec<DeadErrors>) -> Vec<DeadLetters> {
    let mut by_connection: BTreeMap<Option<String>, BTreeMap<String, u64>> = BTreeMap::new();
    for row in rows {
        let reasons = by_connection.entry(row.connection_id).or_default();
        *reasons
            .entry(reason(row.last_error.as_deref()))
            .or_default() += row.count;
    }
    by_connection
        .into_iter()
        .map(|(connection, reasons)| {
            let mut reasons: Vec<ReasonCount> = reasons
                .into_iter()
                .map(|(reason, count)| ReasonCount { reason, count })
                .collect();
            reasons.sort_by(|a, b| b.count.cmp(&a.count).then_with(|| a.reason.cmp(&b.reason)));
            DeadLetters {
                connection,
                dead: reasons.iter().map(|r| r.count).sum(),
                reasons,
            }
        })
        .collect()
}

/// One connection's unfinished events.
#[derive(Debug, Clone, PartialEq, Eq, Serialize)]
pub struct Backlog {
    pub connection: Option<String>,
    /// Count per status among pending, processing, retrying and dead.
    pub counts: BTreeMap<&'static str, u64>,
    /// When the oldest event still waiting (pending or retrying) was received.
    pub oldest_pending_at: Option<String>,
    /// How long, in seconds, it has waited.
    pub oldest_pending_age_secs: Option<i64>,
}

/// The backlog of each connection that has unfinished events.
pub async fn backlog(store: &dyn Store, now: Millis) -> StoreResult<Vec<Backlog>> {
    Ok(group_backlog(store.open_events_by_connection().await?, now))
}

fn group_backlog(rows: Vec<ConnectionBacklog>, now: Millis) -> Vec<Backlog> {
    let mut by_connection: BTreeMap<Option<String>, Vec<ConnectionBacklog>> = BTreeMap::new();
    for row in rows {
        by_connection
            .entry(row.connection_id.clone())
            .or_default()
            .push(row);
    }
    by_connection
        .into_iter()
        .map(|(connection, rows)| {
            let oldest = rows
                .iter()
                .filter(|r| matches!(r.status, EventStatus::Pending | EventStatus::Retrying))
                .map(|r| r.oldest_received_at)
                .min();
            Backlog {
                connection,
                counts: rows.iter().map(|r| (r.status.as_str(), r.count)).collect(),
                oldest_pending_at: oldest.map(rfc3339),
                oldest_pending_age_secs: oldest.map(|t| now.0.saturating_sub(t.0).max(0) / 1000),
            }
        })
        .collect()
}

#[cfg(test)]
mod tests {
    use super::*;

    #[test]
    fn a_reason_is_the_error_up_to_its_first_colon() {
        assert_eq!(reason(Some("ghl 422: contact email invalid")), "ghl 422");
        assert_eq!(reason(Some("timeout")), "timeout");
        assert_eq!(reason(None), "unknown");
        assert_eq!(reason(Some(": odd")), "unknown");
    }

    #[test]
    fn dead_events_group_by_connection_and_reason_most_frequent_first() {
        let row = |connection: &str, error: &str, count| DeadErrors {
            connection_id: Some(connection.to_owned()),
            last_error: Some(error.to_owned()),
            count,
        };
        let grouped = group_dead(vec![
            row("c1", "ghl 422: a", 1),
            row("c1", "tovuti 500: b", 3),
            row("c1", "ghl 422: c", 1),
            row("c2", "timeout", 2),
        ]);
        assert_eq!(grouped.len(), 2);
        assert_eq!(grouped[0].dead, 5);
        assert_eq!(grouped[0].reasons[0].reason, "tovuti 500");
        assert_eq!(grouped[0].reasons[1].count, 2);
        assert_eq!(grouped[1].reasons[0].reason, "timeout");
    }

    #[test]
    fn the_oldest_pending_age_ignores_dead_and_processing_events() {
        let row = |status, oldest| ConnectionBacklog {
            connection_id: Some("c1".into()),
            status,
            count: 1,
            oldest_received_at: Millis(oldest),
        };
        let backlog = group_backlog(
            vec![
                row(EventStatus::Dead, 0),
                row(EventStatus::Retrying, 40_000),
                row(EventStatus::Pending, 50_000),
            ],
            Millis(100_000),
        );
        assert_eq!(backlog[0].oldest_pending_age_secs, Some(60));
        assert_eq!(backlog[0].counts["dead"], 1);
    }
}
