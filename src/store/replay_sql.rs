//! The SQL of an operator's replay, built once for both backends (they differ only in
//! how an event id is bound).

use sqlx::query_builder::Separated;
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::{EventId, EventStatus, Millis, ReplayFilter};

/// `UPDATE inbox_events SET <back to pending> WHERE <filter>`.
pub fn replay_update<'a, DB>(
    filter: &'a ReplayFilter,
    now: Millis,
    bind_id: impl Fn(&mut Separated<'_, 'a, DB, &'static str>, EventId),
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    &'a str: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut update =
        QueryBuilder::new("UPDATE inbox_events SET status = 'pending', attempts = 0, ");
    update.push("next_attempt_at = ").push_bind(now.0);
    update.push(", last_error = NULL, lease_owner = NULL, lease_expires_at = NULL, updated_at = ");
    update.push_bind(now.0);
    push_filter(&mut update, filter, bind_id);
    update
}

/// `SELECT COUNT(*) FROM inbox_events WHERE <filter>`: what a replay would change.
pub fn replay_count<'a, DB>(
    filter: &'a ReplayFilter,
    bind_id: impl Fn(&mut Separated<'_, 'a, DB, &'static str>, EventId),
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    &'a str: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    let mut count = QueryBuilder::new("SELECT COUNT(*) FROM inbox_events");
    push_filter(&mut count, filter, bind_id);
    count
}

/// The WHERE clause: every given criterion, and never an event a worker holds (its
/// worker would go on with it, so replaying it would run it twice at once).
fn push_filter<'a, DB>(
    query: &mut QueryBuilder<'a, DB>,
    filter: &'a ReplayFilter,
    bind_id: impl Fn(&mut Separated<'_, 'a, DB, &'static str>, EventId),
) where
    DB: Database,
    &'a str: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
{
    query.push(" WHERE status <> 'processing'");
    push_statuses(query, &filter.statuses);
    if !filter.ids.is_empty() {
        query.push(" AND id IN (");
        let mut ids = query.separated(", ");
        for id in &filter.ids {
            bind_id(&mut ids, *id);
        }
        query.push(")");
    }
    if let Some(source) = filter.source {
        query.push(" AND source = ").push_bind(source.as_str());
    }
    if let Some(event_type) = &filter.event_type {
        query
            .push(" AND event_type = ")
            .push_bind(event_type.as_str());
    }
    if let Some(from) = filter.received_from {
        query.push(" AND received_at >= ").push_bind(from.0);
    }
    if let Some(until) = filter.received_until {
        query.push(" AND received_at < ").push_bind(until.0);
    }
}

/// ` AND status IN (…)`; no statuses means dead ones, the usual reason to replay.
fn push_statuses<'a, DB>(query: &mut QueryBuilder<'a, DB>, statuses: &[EventStatus])
where
    DB: Database,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let statuses = if statuses.is_empty() {
        &[EventStatus::Dead][..]
    } else {
        statuses
    };
    query.push(" AND status IN (");
    let mut list = query.separated(", ");
    for status in statuses {
        list.push_bind(status.as_str());
    }
    query.push(")");
}
