//! The SQL of a group-commit batch, built once for both backends (they differ only in how
//! the event id is bound and read back).

use sqlx::query_builder::Separated;
use sqlx::{Database, Encode, QueryBuilder, Type};

use super::writer::Pending;

/// `INSERT … VALUES (…), (…) ON CONFLICT DO NOTHING RETURNING <returning>`; `bind_id`
/// binds the event id in the backend's column type.
pub fn insert_batch<'a, DB>(
    batch: &'a [Pending],
    bind_id: impl Fn(&mut Separated<'_, 'a, DB, &'static str>, &'a Pending),
    returning: &str,
) -> QueryBuilder<'a, DB>
where
    DB: Database,
    &'a str: Encode<'a, DB> + Type<DB>,
    Option<&'a str>: Encode<'a, DB> + Type<DB>,
    i64: Encode<'a, DB> + Type<DB>,
    String: Encode<'a, DB> + Type<DB>,
    &'a [u8]: Encode<'a, DB> + Type<DB>,
{
    let mut insert = QueryBuilder::<DB>::new(
        "INSERT INTO inbox_events (id, source, connection_id, external_id, event_type, entity_key, \
         received_at, headers, body, status, next_attempt_at, last_error, updated_at) ",
    );
    insert.push_values(batch, |mut row, p| {
        let e = &p.event;
        bind_id(&mut row, p);
        row.push_bind(e.source.as_str())
            .push_bind(e.connection_id.as_deref())
            .push_bind(e.external_id.as_str())
            .push_bind(e.event_type.as_str())
            .push_bind(e.entity_key.as_deref())
            .push_bind(e.received_at.0)
            .push_bind(e.headers.to_string())
            .push_bind(e.body.as_slice())
            .push_bind(e.status.as_str())
            .push_bind(e.received_at.0)
            .push_bind(e.note.as_deref())
            .push_bind(e.received_at.0);
    });
    // Rows keep arrival order, so seq stays the receive order. A concurrent insert of the
    // same key is waited for, then skipped.
    insert.push(" ON CONFLICT (source, external_id) DO NOTHING RETURNING ");
    insert.push(returning);
    insert
}

/// `SELECT source, external_id, <id> … WHERE (source, external_id) IN (…)` for the
/// deliveries the insert skipped.
pub fn select_existing<'a, DB>(skipped: &[&'a Pending], id: &str) -> QueryBuilder<'a, DB>
where
    DB: Database,
    &'a str: Encode<'a, DB> + Type<DB>,
{
    let mut select = QueryBuilder::<DB>::new("SELECT source, external_id, ");
    select.push(id);
    select.push(" AS id FROM inbox_events WHERE (source, external_id) IN (VALUES ");
    let mut values = select.separated(", ");
    for p in skipped {
        values.push("(");
        values.push_bind_unseparated(p.event.source.as_str());
        values.push_unseparated(", ");
        values.push_bind_unseparated(p.event.external_id.as_str());
        values.push_unseparated(")");
    }
    select.push(")");
    select
}
